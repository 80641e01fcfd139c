"""Reads of matching that pages share: suggested volunteers for a request, and why nobody fits."""

from collections.abc import Collection
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mutualaid.dispatch.volunteers import group_volunteers, now_seconds
from mutualaid.matching import Candidate, Reason
from mutualaid.needs.models import Assignment, Channel, Request
from mutualaid.needs.notifications import CATEGORY_SKILLS, rough_km
from mutualaid.people.models import SPOKEN_LANGUAGES, User

# Why nobody fits a request, in the words a dispatcher reads.
LEFTOVER_REASONS: dict[Reason, Promise] = {
    Reason.NOBODY_IN_RANGE: _(
        "Nobody who gave a home area lives near enough: no member is within the group's search "
        "distance of this request and within how far they said they travel."
    ),
    Reason.NO_SKILL_OR_LANGUAGE: _(
        "Members live near enough, but none of them has the skill or speaks the language this "
        "request needs."
    ),
    Reason.NOT_AVAILABLE: _(
        "Members nearby could help, but none of them is usually free on the days it is needed."
    ),
    Reason.AT_CAPACITY: _(
        "Everyone nearby who could help already holds as many requests as they said they can."
    ),
}
NOBODY_FITS = _("Nobody fits this request right now.")


@dataclass(frozen=True)
class Suggestion:
    member: User
    candidate: Candidate
    reasons: list[str]


def _km(distance: float) -> str:
    """A distance as dispatchers see it: to the nearest half kilometre, at least half a one,
    since homes are only known roughly."""
    return number_format(rough_km(distance), decimal_pos=1)


def _reasons(candidate: Candidate, *, language: str, skill: str, window_asked: bool) -> list[str]:
    reasons = [gettext("%(km)s km away") % {"km": _km(candidate.distance_km)}]
    if candidate.on_duty:
        reasons.append(gettext("on duty"))
    if language and candidate.speaks_preferred_language:
        reasons.append(gettext("speaks %(language)s") % {"language": language})
    if skill:
        reasons.append(gettext("has %(skill)s") % {"skill": skill})
    if window_asked:
        reasons.append(gettext("usually free when it is needed"))
    if candidate.recent_tasks:
        reasons.append(
            ngettext(
                "%(count)d task in the last four weeks",
                "%(count)d tasks in the last four weeks",
                candidate.recent_tasks,
            )
            % {"count": candidate.recent_tasks}
        )
    else:
        reasons.append(gettext("no tasks in the last four weeks"))
    return reasons


@dataclass(frozen=True)
class SuggestionsAnswer:
    suggestions: list[Suggestion]
    reason: Reason | None
    """Why nobody fits, when nobody does and the engine can say."""
    why_nobody: str
    """The reason in plain words when there are no suggestions, else ""."""


def member_who_asked(request: Request) -> int | None:
    """The member who asked for this help themself, never proposed their own request; None
    when a dispatcher typed it in for someone on the phone, or nobody logged in asked."""
    if request.created_by_id is not None and request.channel != Channel.PHONE:
        return request.created_by_id
    return None


def never_suggested(request: Request) -> set[int]:
    """Members not suggested for a request again: those who declined it or let the question
    lapse, and a member who asked for the help themself."""
    left_out = set(
        request.assignments.filter(
            answer__in=[Assignment.Answer.DECLINED, Assignment.Answer.EXPIRED]
        ).values_list("member_id", flat=True)
    )
    asker = member_who_asked(request)
    if asker is not None:
        left_out.add(asker)
    return left_out


def request_suggestions(
    *, request: Request, k: int = 5, exclude: Collection[int] | None = None
) -> SuggestionsAnswer:
    """The k members of the request's group who fit it best, as the matching engine ranks
    them (on duty first, then nearest, with fewer recent tasks and the requester's language
    counting), each with the reasons they were chosen; when there are none, why nobody fits.
    Members in `exclude` are left out; without it, those `never_suggested` for the request.
    Two queries when nobody changed since the index last looked: the changes, and the members
    chosen."""
    if exclude is None:
        exclude = never_suggested(request)
    volunteers = group_volunteers(request.group)
    need = volunteers.need_for(request)
    now = now_seconds()
    candidates = volunteers.index.candidates(need, k, now=now, exclude=exclude)
    if not candidates:
        reason = volunteers.index.leftover_reason(need, now=now, exclude=exclude)
        why = LEFTOVER_REASONS.get(reason, NOBODY_FITS) if reason else NOBODY_FITS
        return SuggestionsAnswer([], reason, str(why))
    members = User.objects.only("pk", "display_name", "erased_at").in_bulk(
        [candidate.volunteer_id for candidate in candidates]
    )
    language = str(dict(SPOKEN_LANGUAGES).get(request.language, "")) if need.languages else ""
    skill_name = CATEGORY_SKILLS.get(request.category, "")
    # The shared skills are seeded in English and translated when shown.
    skill = gettext(skill_name) if skill_name else ""
    suggestions = [
        Suggestion(
            member=members[candidate.volunteer_id],
            candidate=candidate,
            reasons=_reasons(
                candidate, language=language, skill=skill, window_asked=bool(need.window)
            ),
        )
        for candidate in candidates
        if candidate.volunteer_id in members
    ]
    return SuggestionsAnswer(suggestions, None, "")
