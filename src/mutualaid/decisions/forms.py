"""Forms for the decision pages. They parse input into what the services take; the rules of
proposals (who may propose, what an effect may do) live in services.py."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from mutualaid.decisions.models import (
    COMMENT_MAX_LENGTH,
    REASON_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Proposal,
    Stance,
)
from mutualaid.funds.models import Disbursement, Fund
from mutualaid.groups.models import DEFAULT_ROLE_DAYS, MAX_ROLE_DAYS, Group, Role, RoleGrant
from mutualaid.groups.money import format_money, to_minor_units, too_many_places_message
from mutualaid.needs.models import ReimbursementClaim, Request
from mutualaid.needs.references import normalise_reference
from mutualaid.people.models import User

DEFAULT_OPEN_DAYS = 7
SHORTEST_OPEN = timedelta(hours=24)
LONGEST_OPEN = timedelta(days=30)
DATETIME_INPUT_FORMAT = "%Y-%m-%dT%H:%M"

# The policies a proposal can change, in the order the page lists them, with how each value
# is typed: a choice, a whole number, an amount of money, or yes/no.
POLICY_FIELDS = {
    "decision_rule": "choice",
    "quorum_percent": "number",
    "fallback_majority_percent": "number",
    "spending_limit_minor": "money",
    "reimbursement_limit_minor": "money",
    "publishes_fund_summary": "yes_no",
    "join_needs_vouch": "yes_no",
    "retention_days": "number",
    "request_pacing_days": "number",
    "match_radius_km": "number",
    "answer_within_hours": "number",
}
POLICY_LABELS = {
    "decision_rule": _("How proposals pass"),
    "quorum_percent": _("Quorum: the share of members who must take a stance (%)"),
    "fallback_majority_percent": _("Majority needed in a fallback vote (%)"),
    "spending_limit_minor": _("Spending limit without a proposal"),
    "reimbursement_limit_minor": _("Most a volunteer can claim back at once"),
    "publishes_fund_summary": _("Publish a summary of the funds (totals only)"),
    "join_needs_vouch": _("Joining needs a vouch from a member"),
    "retention_days": _("Days to keep personal data of closed requests"),
    "request_pacing_days": _("Days before a household's repeat request comes first again"),
    "match_radius_km": _("How far to look for volunteers for a request (km)"),
    "answer_within_hours": _("Hours a volunteer has to answer a proposed request"),
}
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _group_field(name: str) -> models.Field[Any, Any]:
    field = Group._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def policy_value_display(group: Group, field: str, value: Any) -> str:
    """A policy's value in words: "£50.00", "Yes", "consent", "25"."""
    kind = POLICY_FIELDS.get(field)
    if value is None:
        return "—"
    if kind == "money":
        return format_money(int(value), group.currency)
    if kind == "yes_no":
        return str(_("Yes") if value else _("No"))
    if kind == "choice":
        choices = dict(_group_field(field).choices or [])
        return str(choices.get(value, value))
    return str(value)


def _default_closing(now: datetime) -> datetime:
    return timezone.localtime(now + timedelta(days=DEFAULT_OPEN_DAYS)).replace(
        second=0, microsecond=0
    )


class ProposalForm(forms.Form):
    """A general proposal: a title, the text and when it closes. The other kinds add the
    structured effect a passed proposal has."""

    kind = Proposal.Kind.GENERAL

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    text = forms.CharField(
        label=_("The proposal"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Say what you propose and why. You can reword it until someone takes a stance; "
            "after that, to amend it, withdraw it and propose again."
        ),
    )
    closes_at = forms.DateTimeField(
        label=_("Closes at"),
        input_formats=[DATETIME_INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT_FORMAT),
        help_text=_("Between 24 hours and 30 days from now. A week is usual."),
    )

    def __init__(self, *args: Any, group: Group, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = group
        self.fields["closes_at"].initial = _default_closing(timezone.now())
        # The structured fields first, then what every proposal has.
        common = ["title", "text", "closes_at"]
        self.order_fields([name for name in self.fields if name not in common] + common)

    def clean_closes_at(self) -> datetime:
        closes_at: datetime = self.cleaned_data["closes_at"]
        now = timezone.now()
        if closes_at < now + SHORTEST_OPEN:
            raise ValidationError(
                _("A proposal stays open for at least 24 hours, so everyone can see it."),
                code="too_soon",
            )
        if closes_at > now + LONGEST_OPEN:
            raise ValidationError(
                _("A proposal can stay open for at most 30 days."), code="too_late"
            )
        return closes_at

    def effect(self) -> dict[str, Any] | None:
        """What the proposal does when it passes, as the service takes it."""
        return None

    def spend(self) -> dict[str, Any] | None:
        """For a spend proposal: the details of the disbursement, as keyword arguments."""
        return None


class _GroupChoiceField(forms.ModelChoiceField):
    """A select of the group's own rows whose options say what each one is."""

    def __init__(self, *args: Any, label_from: Any, **kwargs: Any) -> None:
        self._label_from = label_from
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return str(self._label_from(obj))


class SpendProposalForm(ProposalForm):
    kind = Proposal.Kind.SPEND

    fund = _GroupChoiceField(
        label=_("From which fund"),
        queryset=Fund.objects.none(),
        empty_label=_("Choose a fund"),
        label_from=lambda fund: fund.name,
    )
    amount = forms.DecimalField(
        label=_("How much"),
        min_value=Decimal("0.01"),
        max_value=Decimal("100000000"),
        help_text=_("In the fund's currency, e.g. 50 or 12.50."),
    )
    payee_kind = forms.ChoiceField(
        label=_("Paid to"),
        choices=Disbursement.PayeeKind.choices,
        widget=forms.RadioSelect,
        initial=Disbursement.PayeeKind.PAYEE,
    )
    request_reference = forms.CharField(
        label=_("Reference of the request"),
        max_length=12,
        required=False,
        help_text=_("When paid to a request: its reference code, e.g. K7M-4QX."),
    )
    reimbursement = _GroupChoiceField(
        label=_("Reimbursement claim"),
        queryset=ReimbursementClaim.objects.none(),
        required=False,
        empty_label=_("Choose a claim"),
        label_from=lambda claim: (
            _("%(amount)s to %(name)s for request %(reference)s")
            % {
                "amount": format_money(claim.amount_minor, claim.currency),
                "name": claim.claimant.public_name,
                "reference": claim.request.reference,
            }
        ),
        help_text=_("When paying back a volunteer: one of the claims waiting to be paid."),
    )
    payee_name = forms.CharField(
        label=_("Payee's name"),
        max_length=200,
        required=False,
        help_text=_("When paid to someone else: a shop, a landlord, an organisation."),
    )
    purpose = forms.CharField(
        label=_("What it is for"),
        max_length=Disbursement._meta.get_field("purpose").max_length,
        help_text=_("Shown in the open books. Never write a requester's name here."),
    )

    def __init__(self, *args: Any, group: Group, **kwargs: Any) -> None:
        super().__init__(*args, group=group, **kwargs)
        fund_field = self.fields["fund"]
        assert isinstance(fund_field, forms.ModelChoiceField)
        fund_field.queryset = Fund.objects.filter(group=group).order_by("name")
        claim_field = self.fields["reimbursement"]
        assert isinstance(claim_field, forms.ModelChoiceField)
        claim_field.queryset = (
            ReimbursementClaim.objects.filter(
                request__group=group, status=ReimbursementClaim.Status.PENDING
            )
            .select_related("claimant", "request")
            .only(
                "pk",
                "amount_minor",
                "currency",
                "claimant__display_name",
                "claimant__erased_at",
                "request__reference",
            )
            .order_by("created_at", "pk")
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None
        fund: Fund | None = cleaned.get("fund")
        amount: Decimal | None = cleaned.get("amount")
        if fund is not None and amount is not None:
            minor = to_minor_units(amount, fund.currency)
            if minor is None:
                self.add_error("amount", too_many_places_message(fund.currency))
            else:
                cleaned["amount_minor"] = minor
        payee_kind = cleaned.get("payee_kind")
        cleaned["request"] = None
        if payee_kind == Disbursement.PayeeKind.REQUEST:
            self._clean_request(cleaned)
        elif payee_kind == Disbursement.PayeeKind.REIMBURSEMENT:
            if cleaned.get("reimbursement") is None and "reimbursement" not in self.errors:
                self.add_error("reimbursement", _("Choose the claim to pay back."))
        elif payee_kind == Disbursement.PayeeKind.PAYEE and not cleaned.get("payee_name"):
            self.add_error("payee_name", _("Say who is paid."))
        return cleaned

    def _clean_request(self, cleaned: dict[str, Any]) -> None:
        typed = cleaned.get("request_reference", "")
        if not typed:
            self.add_error("request_reference", _("Give the request's reference code."))
            return
        reference = normalise_reference(typed)
        request = (
            Request.objects.filter(group=self.group, reference=reference)
            .only("pk", "reference", "group_id")
            .first()
            if reference
            else None
        )
        if request is None:
            self.add_error("request_reference", _("No request of this group has that reference."))
            return
        cleaned["request"] = request

    def spend(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        kind = data["payee_kind"]
        return {
            "fund": data["fund"],
            "amount_minor": data["amount_minor"],
            "purpose": data["purpose"],
            "payee_kind": kind,
            "request": data["request"] if kind == Disbursement.PayeeKind.REQUEST else None,
            "reimbursement": (
                data["reimbursement"] if kind == Disbursement.PayeeKind.REIMBURSEMENT else None
            ),
            "payee_name": data["payee_name"] if kind == Disbursement.PayeeKind.PAYEE else "",
        }


def _days_field() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("For how many days"),
        min_value=1,
        max_value=MAX_ROLE_DAYS,
        initial=DEFAULT_ROLE_DAYS,
        help_text=_("From 1 to 365 days, counted from when the proposal passes."),
    )


def _grant_label(grant: RoleGrant) -> str:
    return str(
        _("%(name)s as %(role)s, until %(date)s")
        % {
            "name": grant.holder.public_name,
            "role": grant.get_role_display(),
            "date": date_format(timezone.localtime(grant.expires_at), "j M Y"),
        }
    )


class RoleGrantProposalForm(ProposalForm):
    kind = Proposal.Kind.ROLE_GRANT

    holder = forms.TypedChoiceField(label=_("Who"), coerce=int)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    days = _days_field()

    def __init__(self, *args: Any, group: Group, members: list[User], **kwargs: Any) -> None:
        super().__init__(*args, group=group, **kwargs)
        holder_field = self.fields["holder"]
        assert isinstance(holder_field, forms.TypedChoiceField)
        holder_field.choices = [("", _("Choose a member"))] + [
            (member.pk, member.public_name) for member in members
        ]

    def effect(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        return {"holder": data["holder"], "role": data["role"], "days": data["days"]}


class _RoleInForceProposalForm(ProposalForm):
    grant = _GroupChoiceField(
        label=_("Which role"),
        queryset=RoleGrant.objects.none(),
        empty_label=_("Choose a role in force"),
        label_from=_grant_label,
    )

    def __init__(self, *args: Any, group: Group, **kwargs: Any) -> None:
        super().__init__(*args, group=group, **kwargs)
        grant_field = self.fields["grant"]
        assert isinstance(grant_field, forms.ModelChoiceField)
        grant_field.queryset = (
            RoleGrant.objects.in_force()
            .filter(group=group)
            .select_related("holder")
            .order_by("role", "expires_at", "pk")
        )


class RoleRenewProposalForm(_RoleInForceProposalForm):
    kind = Proposal.Kind.ROLE_RENEW

    days = _days_field()

    def effect(self) -> dict[str, Any] | None:
        return {"grant": self.cleaned_data["grant"].pk, "days": self.cleaned_data["days"]}


class RoleRevokeProposalForm(_RoleInForceProposalForm):
    kind = Proposal.Kind.ROLE_REVOKE

    def effect(self) -> dict[str, Any] | None:
        return {"grant": self.cleaned_data["grant"].pk}


class PolicyProposalForm(ProposalForm):
    """Changes one policy. The page asks first which policy, so the value gets the right input."""

    kind = Proposal.Kind.POLICY

    def __init__(self, *args: Any, group: Group, field: str, **kwargs: Any) -> None:
        if field not in POLICY_FIELDS:
            raise ValueError(f"Not a policy a proposal can change: {field!r}")
        super().__init__(*args, group=group, **kwargs)
        self.policy_field = field
        self.current_value = getattr(group, field)
        self.current_display = policy_value_display(group, field, self.current_value)
        value_field = self._value_field(group, field)
        value_field.label = _("New value")
        value_field.help_text = _("Now: %(value)s.") % {"value": self.current_display}
        self.fields["value"] = value_field
        self.order_fields(["value", "title", "text", "closes_at"])

    @staticmethod
    def _value_field(group: Group, field: str) -> forms.Field:
        kind = POLICY_FIELDS[field]
        if kind == "choice":
            return forms.ChoiceField(choices=_group_field(field).choices or [])
        if kind == "yes_no":
            return forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect)
        if kind == "money":
            return forms.DecimalField(min_value=0, max_value=Decimal("1000000"))
        return forms.IntegerField(min_value=0)

    def clean_value(self) -> Any:
        value = self.cleaned_data["value"]
        kind = POLICY_FIELDS[self.policy_field]
        if kind == "yes_no":
            value = value == "yes"
        elif kind == "money":
            minor = to_minor_units(value, self.group.currency)
            if minor is None:
                raise ValidationError(too_many_places_message(self.group.currency))
            value = minor
        # The same bounds the group's own settings page enforces.
        _group_field(self.policy_field).run_validators(value)
        if value == self.current_value:
            raise ValidationError(_("That is the value now; propose a different one."))
        return value

    def effect(self) -> dict[str, Any] | None:
        return {"changes": {self.policy_field: self.cleaned_data["value"]}}


class ProposalEditForm(forms.Form):
    """Rewording a proposal before anyone has taken a stance on it."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    text = forms.CharField(
        label=_("The proposal"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
    )


class StanceForm(forms.Form):
    position = forms.ChoiceField(
        label=_("Your stance"), choices=Stance.Position.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Every member sees it beside your stance. Needed when you disagree or block: say "
            "what would make it work for you. When you change your stance, change or clear it."
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None
        position = cleaned.get("position")
        cleaned["reason"] = (cleaned.get("reason") or "").strip()
        if (
            position in (Stance.Position.DISAGREE, Stance.Position.BLOCK)
            and not cleaned["reason"]
            and "reason" not in self.errors
        ):
            self.add_error(
                "reason",
                ValidationError(
                    _("Give a reason when you disagree or block, so the group can respond."),
                    code="reason_required",
                ),
            )
        return cleaned


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Your comment"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


FORMS_BY_KIND: dict[str, type[ProposalForm]] = {
    Proposal.Kind.GENERAL: ProposalForm,
    Proposal.Kind.SPEND: SpendProposalForm,
    Proposal.Kind.ROLE_GRANT: RoleGrantProposalForm,
    Proposal.Kind.ROLE_RENEW: RoleRenewProposalForm,
    Proposal.Kind.ROLE_REVOKE: RoleRevokeProposalForm,
    Proposal.Kind.POLICY: PolicyProposalForm,
}
