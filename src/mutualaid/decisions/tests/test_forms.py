"""The decision forms parse input into what the services take."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mutualaid.decisions.forms import PolicyProposalForm, StanceForm, policy_value_display
from mutualaid.decisions.tests.factories import deciding_group

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"position": "agree"}, {}),
        ({"position": "abstain", "reason": ""}, {}),
        ({"position": "disagree", "reason": "Too dear"}, {}),
        (
            {"position": "block", "reason": "   "},
            {"reason": ["Give a reason when you disagree or block, so the group can respond."]},
        ),
        ({"position": ""}, {"position": ["This field is required."]}),
        (
            {"position": "agree", "reason": "x" * 1001},
            {"reason": ["Ensure this value has at most 1000 characters (it has 1001)."]},
        ),
    ],
)
def test_the_stance_form(data: dict[str, str], errors: dict[str, list[str]]) -> None:
    form = StanceForm(data)

    assert form.errors == errors


def test_the_stance_form_trims_the_reason() -> None:
    form = StanceForm({"position": "disagree", "reason": "  Too dear \n"})

    assert form.is_valid()
    assert form.cleaned_data["reason"] == "Too dear"


def test_a_policy_form_only_for_policies_a_proposal_can_change() -> None:
    group = deciding_group()

    with pytest.raises(ValueError, match="Not a policy a proposal can change"):
        PolicyProposalForm(group=group, field="name")


def test_a_money_policy_in_a_currency_without_cents() -> None:
    group = deciding_group(currency="JPY")
    closes_at = timezone.localtime(timezone.now() + timedelta(days=3))
    common = {"title": "t", "text": "x", "closes_at": closes_at.strftime("%Y-%m-%dT%H:%M")}

    whole = PolicyProposalForm(
        {**common, "value": "3000"}, group=group, field="spending_limit_minor"
    )
    cents = PolicyProposalForm(
        {**common, "value": "30.5"}, group=group, field="spending_limit_minor"
    )

    assert whole.is_valid()
    assert whole.effect() == {"changes": {"spending_limit_minor": 3000}}
    assert cents.errors == {"value": ["This currency has no smaller unit than 0 decimal places."]}


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("spending_limit_minor", 5000, "£50.00"),
        ("join_needs_vouch", True, "Yes"),
        ("publishes_fund_summary", False, "No"),
        ("decision_rule", "consensus_then_vote", "consensus, then a vote if it fails"),
        ("quorum_percent", 25, "25"),
    ],
)
def test_policy_values_in_words(field: str, value: object, shown: str) -> None:
    group = deciding_group()

    assert policy_value_display(group, field, value) == shown
