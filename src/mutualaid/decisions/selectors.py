"""Reads of proposals that pages, the API and emails share."""

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from mutualaid.decisions.models import Comment, Proposal, Stance
from mutualaid.groups.models import Group
from mutualaid.people.models import User

POSITIONS = tuple(Stance.Position.values)


def group_proposals(*, group: Group, status: str | None = None) -> QuerySet[Proposal]:
    """A group's proposals, newest first, each with its proposer and, as `count_<position>`,
    how many took each stance in its current round; one query whatever their number."""
    proposals = Proposal.objects.filter(group=group).select_related("proposed_by")
    if status is not None:
        proposals = proposals.filter(status=status)
    counts = {
        f"count_{position}": Coalesce(
            Subquery(
                Stance.objects.filter(
                    proposal=OuterRef("pk"), round=OuterRef("round"), position=position
                )
                .order_by()
                .values("proposal")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
            0,
        )
        for position in POSITIONS
    }
    return proposals.annotate(**counts).order_by("-created_at", "-pk")


def proposal_for_group(*, group: Group, pk: int) -> Proposal | None:
    """One proposal of `group` with its proposer, role grant and stances of every round (with
    their members) and comments (with their authors) loaded."""
    return (
        Proposal.objects.filter(group=group, pk=pk)
        .select_related("group", "proposed_by", "role_grant__holder")
        .prefetch_related(
            Prefetch(
                "stances",
                queryset=Stance.objects.select_related("member").order_by("round", "created_at"),
            ),
            Prefetch(
                "comments",
                queryset=Comment.objects.select_related("author").order_by("created_at", "pk"),
            ),
        )
        .first()
    )


def round_stances(*, proposal: Proposal, round: int | None = None) -> list[Stance]:
    """The stances of a round (the current one by default), oldest first. Uses the prefetched
    stances when proposal_for_group loaded them."""
    round = round or proposal.round
    return [stance for stance in proposal.stances.all() if stance.round == round]


def stance_tally(*, proposal: Proposal, round: int | None = None) -> dict[str, int]:
    """How many took each stance in a round (the current one by default)."""
    tally = dict.fromkeys(POSITIONS, 0)
    for stance in round_stances(proposal=proposal, round=round):
        tally[stance.position] += 1
    return tally


def member_stance(*, proposal: Proposal, member: User) -> Stance | None:
    """The stance `member` took in the proposal's current round, if any."""
    if not getattr(member, "is_authenticated", False):
        return None
    for stance in round_stances(proposal=proposal):
        if stance.member_id == member.pk:
            return stance
    return None


def open_proposal_count(*, group: Group) -> int:
    return Proposal.objects.filter(group=group, status=Proposal.Status.OPEN).count()
