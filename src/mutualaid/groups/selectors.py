"""Reads about groups that pages and the API share."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from mutualaid.groups.models import Group, JoinRequest, Membership, RoleGrant
from mutualaid.people.models import Skill, User


def _with_member_count(groups: QuerySet[Group]) -> QuerySet[Group]:
    """Annotate `member_count` with a subquery per group shown: a join with every membership
    and a GROUP BY would cost as much as all memberships of all groups on every page."""
    count = (
        Membership.objects.filter(group=OuterRef("pk"))
        .order_by()
        .values("group")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return groups.annotate(member_count=Coalesce(Subquery(count, output_field=IntegerField()), 0))


def group_list(*, search: str = "") -> QuerySet[Group]:
    """Groups for the public directory, matched by name, place or description."""
    groups = _with_member_count(Group.objects.select_related("parent"))
    search = search.strip()
    if search:
        groups = groups.filter(
            Q(name__icontains=search)
            | Q(place__icontains=search)
            | Q(description__icontains=search)
            | Q(slug__icontains=search)
        )
    return groups.order_by("name")


def group_members(*, group: Group) -> QuerySet[Membership]:
    """A group's memberships with the members' public names; the encrypted personal fields
    are not loaded, since no list of members may show them."""
    return (
        Membership.objects.filter(group=group)
        .select_related("member")
        .defer("member__email", "member__phone", "member__address")
        .order_by("joined_at", "pk")
    )


def group_roles_in_force(*, group: Group) -> QuerySet[RoleGrant]:
    return (
        RoleGrant.objects.in_force()
        .filter(group=group)
        .select_related("holder", "proposed_by", "confirmed_by")
        .order_by("role", "expires_at")
    )


def group_roles_awaiting_confirmation(*, group: Group) -> QuerySet[RoleGrant]:
    return (
        RoleGrant.objects.awaiting_confirmation()
        .filter(group=group)
        .select_related("holder", "proposed_by")
    )


def group_pending_join_requests(*, group: Group) -> QuerySet[JoinRequest]:
    return JoinRequest.objects.filter(
        group=group, status=JoinRequest.Status.PENDING
    ).select_related("applicant")


def member_groups(*, member: User) -> QuerySet[Group]:
    groups = Group.objects.filter(
        pk__in=Membership.objects.filter(member=member).values("group")
    ).select_related("parent")
    return _with_member_count(groups).order_by("name")


def group_children(*, group: Group) -> QuerySet[Group]:
    """The groups directly inside `group`, with their member counts."""
    return _with_member_count(Group.objects.filter(parent=group)).order_by("name")


def group_skills(*, group: Group) -> QuerySet[Skill]:
    """The skills a member of `group` can pick from: the shared list and the group's own."""
    return Skill.objects.filter(Q(group__isnull=True) | Q(group=group)).order_by("name", "group_id")


def member_group_ids(*, member: User | AnonymousUser) -> set[int]:
    """The ids of the groups someone belongs to (none for a visitor who is not logged in)."""
    if not isinstance(member, User):
        return set()
    return set(Membership.objects.filter(member=member).values_list("group_id", flat=True))


def pending_join_request(*, group: Group, applicant: User | AnonymousUser) -> JoinRequest | None:
    """Someone's own request to join `group` that is still waiting for a vouch."""
    if not isinstance(applicant, User):
        return None
    return JoinRequest.objects.filter(
        group=group, applicant=applicant, status=JoinRequest.Status.PENDING
    ).first()
