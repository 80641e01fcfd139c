"""Who may do what in a group. The only place group access is decided."""

from typing import Any

from django.utils import timezone

from mutualaid.groups.models import Group, Membership, Role, RoleGrant


def is_member(user: Any, group: Group) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(group=group, member=user).exists()


def holds_role(user: Any, group: Group, role: str) -> bool:
    """Whether `user` wears `role` in `group` now; expired or unconfirmed grants don't count."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        RoleGrant.objects.in_force()
        .filter(group=group, holder=user, role=role, holder__memberships__group=group)
        .exists()
    )


def can_view_members(user: Any, group: Group) -> bool:
    return is_member(user, group)


def can_view_roles(user: Any, group: Group) -> bool:
    """Who holds which role is visible to every member."""
    return is_member(user, group)


def can_edit_group(user: Any, group: Group) -> bool:
    return holds_role(user, group, Role.STEWARD)


def can_vouch(user: Any, group: Group) -> bool:
    return is_member(user, group)


def can_add_skill(user: Any, group: Group) -> bool:
    return is_member(user, group)


def in_founding_period(group: Group) -> bool:
    """A group's first 30 days, when roles are given by the two-person rule; afterwards they
    come from the group's decisions."""
    return timezone.now() < group.founding_period_ends_at


def can_propose_role(user: Any, group: Group) -> bool:
    return is_member(user, group)


def can_confirm_role_grant(user: Any, grant: RoleGrant) -> bool:
    """The two-person rule: a member other than the proposer (and the holder) confirms."""
    return (
        is_member(user, grant.group)
        and user.pk != grant.proposed_by_id
        and user.pk != grant.holder_id
    )


def can_step_down(user: Any, grant: RoleGrant) -> bool:
    """The holder may give a role back, or decline a proposed one, at any time."""
    return bool(getattr(user, "is_authenticated", False)) and user.pk == grant.holder_id


def can_withdraw_role_grant(user: Any, grant: RoleGrant) -> bool:
    """The member who proposed a role may withdraw the proposal until it is confirmed."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and grant.confirmed_at is None
        and user.pk == grant.proposed_by_id
    )
