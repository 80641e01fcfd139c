"""Reads about members that pages and the API share."""

from django.db.models import Q, QuerySet

from mutualaid.common.models import AuditEvent
from mutualaid.groups.models import JoinRequest, Membership, RoleGrant
from mutualaid.people.models import ApiToken, Skill, User


def skill_choices(*, member: User) -> QuerySet[Skill]:
    """The skills a member can pick: the shared ones and those of the groups they belong to."""
    group_ids = Membership.objects.filter(member=member).values("group")
    return (
        Skill.objects.filter(Q(group__isnull=True) | Q(group__in=group_ids))
        .select_related("group")
        .order_by("name", "pk")
    )


def member_api_tokens(*, member: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=member).order_by("-created_at", "-pk")


def member_roles_in_force(*, member: User) -> QuerySet[RoleGrant]:
    """The roles a member wears right now, soonest to expire first."""
    return (
        RoleGrant.objects.in_force()
        .filter(holder=member)
        .select_related("group")
        .order_by("expires_at", "pk")
    )


def member_pending_join_requests(*, member: User) -> QuerySet[JoinRequest]:
    return (
        JoinRequest.objects.filter(applicant=member, status=JoinRequest.Status.PENDING)
        .select_related("group")
        .order_by("created_at", "pk")
    )


def member_data_access_log(*, member: User) -> QuerySet[AuditEvent]:
    """Every recorded sight or handling of a member's personal data, newest first."""
    return (
        AuditEvent.objects.filter(subject=member)
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )
