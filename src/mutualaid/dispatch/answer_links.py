"""The links in a proposal's email, with which a volunteer answers without logging in.

A link carries a token signed with the site's secret key (django.core.signing): the proposal,
the member it was made to, and when it expires. Nobody can make one for another proposal or
member, and it stops working when the proposal's time to answer is over. The pages it opens
change nothing on GET (mail scanners follow links); answering is a POST from the page.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing
from django.urls import reverse
from django.utils import timezone

from mutualaid.needs.models import Assignment

SALT = "mutualaid.dispatch.proposal-answer"


@dataclass(frozen=True)
class AnswerToken:
    assignment_id: int
    member_id: int
    expires_at: datetime

    @property
    def expired(self) -> bool:
        return timezone.now() >= self.expires_at


class BadToken(Exception):
    """The token was not made by this site, or was altered."""


def make_token(assignment: Assignment) -> str:
    """The token for a proposal's links. A proposal without an end (a dispatcher's own ask)
    has no links: its member answers on the request's page."""
    if assignment.expires_at is None:
        raise ValueError("Only a proposal with an answer time has answer links.")
    return signing.dumps(
        [assignment.pk, assignment.member_id, int(assignment.expires_at.timestamp())], salt=SALT
    )


def read_token(token: str) -> AnswerToken:
    """What a token says; BadToken when it was not signed here or does not read as one."""
    try:
        value = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise BadToken from None
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not all(isinstance(part, int) and not isinstance(part, bool) for part in value)
    ):
        raise BadToken
    assignment_id, member_id, expires = value
    try:
        expires_at = datetime.fromtimestamp(expires, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadToken from None
    return AnswerToken(assignment_id=assignment_id, member_id=member_id, expires_at=expires_at)


def answer_path(assignment: Assignment, *, answer: str = "") -> str:
    """The path of the answer page (`answer` "" ), or of the page that accepts or declines
    (`answer` "accept" or "decline")."""
    name = {
        "": "dispatch:proposal_answer",
        "accept": "dispatch:proposal_accept",
        "decline": "dispatch:proposal_decline",
    }[answer]
    return reverse(name, kwargs={"token": make_token(assignment)})
