"""Reads about groups that pages and the API share."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet

from mutualaid.groups.models import Group, JoinRequest, Membership, RoleGrant
from mutualaid.people.models import Skill, User


def group_list(*, search: str = "") -> QuerySet[Group]:
    """Groups for the public directory, matched by name, place or description."""
    groups = Group.objects.select_related("parent").annotate(member_count=Count("memberships"))
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
    return Membership.objects.filter(group=group).select_related("member").order_by("joined_at")


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
    return (
        Group.objects.filter(pk__in=Membership.objects.filter(member=member).values("group"))
        .select_related("parent")
        .annotate(member_count=Count("memberships"))
        .order_by("name")
    )


def group_children(*, group: Group) -> QuerySet[Group]:
    """The groups directly inside `group`, with their member counts."""
    return (
        Group.objects.filter(parent=group)
        .annotate(member_count=Count("memberships"))
        .order_by("name")
    )


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
