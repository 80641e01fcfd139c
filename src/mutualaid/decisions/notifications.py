"""Emails about proposals, sent by the background worker once each.

Members hear when a proposal opens (not its proposer), when its second round, the vote, opens,
and a day before a round closes; the proposer hears how it ended. Each email goes through
notify.services.email_send with an idempotency key naming the proposal, the round and the
recipient, so a task that runs twice sends nothing twice. An email says what is proposed, by
whom and until when, and links to the proposal, where members read it in full.
"""

from typing import Any

from django.utils import translation
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from mutualaid.decisions.effects import policy_field
from mutualaid.decisions.models import Proposal, Stance
from mutualaid.groups.models import DecisionRule, Group, Role, RoleGrant
from mutualaid.groups.money import format_money
from mutualaid.needs.notifications import absolute_url
from mutualaid.notify.services import email_send, member_language
from mutualaid.people.models import User


def load(proposal_id: int) -> Proposal | None:
    return (
        Proposal.objects.select_related("group", "proposed_by", "role_grant")
        .filter(pk=proposal_id)
        .first()
    )


def members(group: Group) -> list[User]:
    """The group's members who can be written to, in a steady order."""
    return list(
        User.objects.filter(memberships__group=group, is_active=True, erased_at__isnull=True)
        .defer("phone", "address")
        .order_by("pk")
    )


def _policy_value(name: str, value: Any, currency: str) -> str | Promise:
    if isinstance(value, bool):
        return gettext_lazy("yes") if value else gettext_lazy("no")
    if name == "decision_rule" and value in DecisionRule.values:
        return DecisionRule(value).label
    if name.endswith("_minor") and isinstance(value, int):
        return format_money(value, currency)
    if isinstance(value, int):
        return number_format(value)
    return str(value)


def _role_label(role: str) -> str | Promise:
    return Role(role).label if role in Role.values else role


def effect_lines(proposal: Proposal) -> list[str]:
    """What a proposal does if it passes, in words, one line per change. Translated in the
    language active when called."""

    effect = proposal.effect or {}
    if proposal.kind == Proposal.Kind.SPEND:
        disbursement = getattr(proposal, "disbursement", None)
        if disbursement is None:
            return []
        return [
            _("Pay %(amount)s from the fund “%(fund)s” for: %(purpose)s")
            % {
                "amount": format_money(disbursement.amount_minor, disbursement.fund.currency),
                "fund": disbursement.fund.name,
                "purpose": disbursement.purpose,
            }
        ]
    if proposal.kind == Proposal.Kind.ROLE_GRANT:
        holder = User.objects.filter(pk=int(effect.get("holder") or 0)).first()
        return [
            ngettext(
                "Give %(name)s the role of %(role)s for %(days)d day.",
                "Give %(name)s the role of %(role)s for %(days)d days.",
                effect.get("days", 0),
            )
            % {
                "name": holder.public_name if holder else _("a former member"),
                "role": _role_label(effect.get("role", "")),
                "days": effect.get("days", 0),
            }
        ]
    if proposal.kind in (Proposal.Kind.ROLE_RENEW, Proposal.Kind.ROLE_REVOKE):
        grant_id = int(effect.get("grant") or 0)
        grant = RoleGrant.objects.select_related("holder").filter(pk=grant_id).first()
        if grant is None:
            return []
        values = {"name": grant.holder.public_name, "role": _role_label(grant.role)}
        if proposal.kind == Proposal.Kind.ROLE_REVOKE:
            return [_("Take back the role of %(role)s from %(name)s.") % values]
        return [
            ngettext(
                "Renew the role of %(role)s of %(name)s for %(days)d day from now.",
                "Renew the role of %(role)s of %(name)s for %(days)d days from now.",
                effect.get("days", 0),
            )
            % {**values, "days": effect.get("days", 0)}
        ]
    if proposal.kind == Proposal.Kind.POLICY:
        group = proposal.group
        lines = []
        for name, value in (effect.get("changes") or {}).items():
            field = policy_field(name)
            lines.append(
                _("%(policy)s: %(value)s")
                % {
                    "policy": str(field.verbose_name),
                    "value": _policy_value(name, value, group.currency),
                }
            )
        return lines
    return []


def about(proposal: Proposal) -> dict[str, Any]:
    """What every email about a proposal says."""
    return {
        "group_name": proposal.group.name,
        "title": proposal.title,
        "kind": proposal.get_kind_display(),
        "proposer_name": proposal.proposed_by.public_name if proposal.proposed_by else "",
        "closes_at": proposal.closes_at,
        "rule": proposal.get_rule_display(),
        "round": proposal.round,
        "majority_percent": proposal.majority_percent,
        "proposal_url": absolute_url(proposal.get_absolute_url()),
    }


class EffectWords:
    """effect_lines of one proposal in each reader's language, worked out once per language."""

    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal
        self._lines: dict[str, list[str]] = {}

    def lines(self, language: str) -> list[str]:
        if language not in self._lines:
            with translation.override(language):
                self._lines[language] = effect_lines(self.proposal)
        return self._lines[language]


def to_member(
    member: User, *, key: str, template: str, context: dict[str, Any], words: EffectWords
) -> int:
    """1 when an email to `member` was recorded, 0 when it already was or cannot be."""
    language = member_language(member)
    return int(
        email_send(
            key=key,
            to=member.email,
            template=template,
            context={
                **context,
                "effect_lines": words.lines(language),
                "member_name": member.public_name,
            },
            language=language,
            recipient_user=member,
        )
        is not None
    )


def stances_by_member(proposal: Proposal) -> dict[int, Stance]:
    return {
        stance.member_id: stance
        for stance in Stance.objects.filter(proposal=proposal, round=proposal.round)
    }
