"""What a passed proposal does, and the checks on what it may do.

A proposal's `effect` is checked when it is made (`effect_clean`) and carried out once when it
passes (`apply`, called by decisions.services.proposal_close inside its transaction): a spend
pays its disbursement, a role proposal gives, renews or takes back a role, a policy proposal
changes the group's policies. The functions doing the work belong to the funds and groups apps;
this module only turns a proposal into the right call.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Field
from django.utils.translation import gettext as _

from mutualaid.common.errors import ApplicationError
from mutualaid.decisions.models import Proposal
from mutualaid.groups.models import MAX_ROLE_DAYS, Group, Membership, Role, RoleGrant
from mutualaid.people.models import User

# The group policies a proposal may change; every other field of a group is its stewards' to
# edit.
POLICY_FIELDS = (
    "decision_rule",
    "quorum_percent",
    "fallback_majority_percent",
    "spending_limit_minor",
    "reimbursement_limit_minor",
    "publishes_fund_summary",
    "join_needs_vouch",
    "retention_days",
    "request_pacing_days",
    "match_radius_km",
    "answer_within_hours",
)
BOOLEAN_POLICY_FIELDS = frozenset({"publishes_fund_summary", "join_needs_vouch"})
CHOICE_POLICY_FIELDS = frozenset({"decision_rule"})

# The kinds whose effect is a role, and those that carry out anything at all.
ROLE_KINDS = frozenset(
    {Proposal.Kind.ROLE_GRANT, Proposal.Kind.ROLE_RENEW, Proposal.Kind.ROLE_REVOKE}
)
ACTING_KINDS = ROLE_KINDS | {Proposal.Kind.SPEND, Proposal.Kind.POLICY}


def _whole_number(effect: dict[str, Any], key: str) -> int:
    value = effect.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApplicationError(_("The proposal's effect is incomplete."))
    return value


def _days(effect: dict[str, Any]) -> int:
    days = _whole_number(effect, "days")
    if not 1 <= days <= MAX_ROLE_DAYS:
        raise ApplicationError(
            _("A role can be given for 1 to %(days)d days.") % {"days": MAX_ROLE_DAYS}
        )
    return days


def _grant_in_force(*, group: Group, effect: dict[str, Any]) -> RoleGrant:
    grant = (
        RoleGrant.objects.in_force().filter(pk=_whole_number(effect, "grant"), group=group).first()
    )
    if grant is None:
        raise ApplicationError(_("That role is not held in this group now."))
    return grant


def policy_field(name: str) -> "Field[Any, Any]":
    """The group's model field behind a policy a proposal may change."""
    field = Group._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def policy_changes_clean(*, group: Group, changes: Any) -> dict[str, Any]:
    """The policy changes as they will be stored: only POLICY_FIELDS, each a value the group's
    own field accepts (the same ranges and choices as its settings form), and at least one of
    them different from what the group has now."""
    if not isinstance(changes, dict) or not changes:
        raise ApplicationError(_("Choose at least one policy to change."))
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in POLICY_FIELDS:
            raise ApplicationError(_("That is not a policy a proposal can change."))
        field = policy_field(name)
        label = str(field.verbose_name)
        if name in BOOLEAN_POLICY_FIELDS:
            if not isinstance(value, bool):
                raise ApplicationError(_("%(policy)s: choose yes or no.") % {"policy": label})
        elif name in CHOICE_POLICY_FIELDS:
            if not isinstance(value, str):
                raise ApplicationError(
                    _("%(policy)s: choose one of the options.") % {"policy": label}
                )
        elif isinstance(value, bool) or not isinstance(value, int):
            raise ApplicationError(_("%(policy)s: enter a whole number.") % {"policy": label})
        try:
            cleaned[name] = field.clean(value, group)
        except ValidationError as error:
            raise ApplicationError(
                _("%(policy)s: %(problem)s")
                % {"policy": label, "problem": " ".join(error.messages)}
            ) from error
    if all(getattr(group, name) == value for name, value in cleaned.items()):
        raise ApplicationError(_("The group already has these policies."))
    return cleaned


def effect_clean(*, group: Group, kind: str, effect: Any) -> dict[str, Any]:
    """The effect of a new proposal of `kind` as it will be stored, checked against the group as
    it is now. A general or spend proposal carries none (a spend's effect is its disbursement).
    """
    effect = effect or {}
    if not isinstance(effect, dict):
        raise ApplicationError(_("The proposal's effect is incomplete."))
    if kind in (Proposal.Kind.GENERAL, Proposal.Kind.SPEND):
        if effect:
            raise ApplicationError(_("This kind of proposal carries no effect."))
        return {}
    if kind == Proposal.Kind.ROLE_GRANT:
        holder_id = _whole_number(effect, "holder")
        role = effect.get("role")
        if role not in Role.values:
            raise ApplicationError(_("Unknown role."))
        days = _days(effect)
        if not Membership.objects.filter(group=group, member_id=holder_id).exists():
            raise ApplicationError(_("Roles can only be given to members of the group."))
        return {"holder": holder_id, "role": role, "days": days}
    if kind == Proposal.Kind.ROLE_RENEW:
        days = _days(effect)
        grant = _grant_in_force(group=group, effect=effect)
        return {"grant": grant.pk, "days": days}
    if kind == Proposal.Kind.ROLE_REVOKE:
        grant = _grant_in_force(group=group, effect=effect)
        return {"grant": grant.pk}
    if kind == Proposal.Kind.POLICY:
        if set(effect) != {"changes"}:
            raise ApplicationError(_("Choose at least one policy to change."))
        return {"changes": policy_changes_clean(group=group, changes=effect["changes"])}
    raise ApplicationError(_("Unknown kind of proposal."))


def _grant(proposal: Proposal, key: str = "grant") -> RoleGrant:
    grant = RoleGrant.objects.filter(
        pk=proposal.effect.get(key), group_id=proposal.group_id
    ).first()
    if grant is None:
        raise ApplicationError(_("The role this proposal is about no longer exists."))
    return grant


def apply(proposal: Proposal) -> dict[str, Any]:
    """Carry out a passed proposal's effect and answer what it did, for `effect_result`. Sets
    `proposal.role_grant` for a role proposal (the caller saves the proposal). Raises
    ApplicationError when the effect cannot be carried out; the caller runs it in a savepoint,
    so a failed effect leaves nothing half done."""
    from mutualaid.groups import services as group_services

    kind = proposal.kind
    if kind == Proposal.Kind.GENERAL:
        return {}
    if kind == Proposal.Kind.SPEND:
        from mutualaid.funds import services as fund_services

        disbursement = fund_services.disbursement_for_passed_proposal(proposal=proposal)
        return {"disbursement": disbursement.pk, "status": disbursement.status}
    if kind == Proposal.Kind.ROLE_GRANT:
        holder = User.objects.filter(pk=proposal.effect.get("holder")).first()
        if holder is None:
            raise ApplicationError(_("The member this role was for has left."))
        grant = group_services.role_grant_by_decision(
            proposal=proposal,
            holder=holder,
            role=proposal.effect["role"],
            days=proposal.effect["days"],
        )
    elif kind == Proposal.Kind.ROLE_RENEW:
        grant = group_services.role_grant_renew_by_decision(
            proposal=proposal, grant=_grant(proposal), days=proposal.effect["days"]
        )
    elif kind == Proposal.Kind.ROLE_REVOKE:
        grant = group_services.role_grant_revoke_by_decision(
            proposal=proposal, grant=_grant(proposal)
        )
    elif kind == Proposal.Kind.POLICY:
        changed = group_services.group_policy_change_by_decision(
            proposal=proposal, changes=dict(proposal.effect.get("changes", {}))
        )
        return {"changes": changed}
    else:
        raise ApplicationError(_("Unknown kind of proposal."))
    proposal.role_grant = grant
    return {"role_grant": grant.pk}


def unwind_failed(proposal: Proposal) -> dict[str, Any]:
    """What a proposal that did not pass (or was withdrawn) leaves behind is undone: a spend's
    proposed disbursement is cancelled. Answers what was done."""
    if proposal.kind != Proposal.Kind.SPEND:
        return {}
    from mutualaid.funds import services as fund_services

    disbursement = fund_services.disbursement_for_failed_proposal(proposal=proposal)
    if disbursement is None:
        return {}
    return {"disbursement": disbursement.pk, "status": disbursement.status}
