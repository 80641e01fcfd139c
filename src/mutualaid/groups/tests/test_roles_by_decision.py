"""After its first 30 days a group gives, renews and takes back roles by its decisions; the
two-person rule holds only while the group is new."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from mutualaid.common.errors import ApplicationError
from mutualaid.decisions.models import Proposal
from mutualaid.groups import permissions, services
from mutualaid.groups.models import DecisionRule, Group, Role, RoleGrant
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

AFTER_FOUNDING = re.escape(
    "After a group's first 30 days, roles are given and renewed by a proposal the group decides on."
)


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def member_of(group: Group):
    member = UserFactory()
    services.group_join(group=group, member=member)
    return member


def older(group: Group, *, days: int) -> Group:
    Group.objects.filter(pk=group.pk).update(created_at=timezone.now() - timedelta(days=days))
    group.refresh_from_db()
    return group


def passed_proposal(group: Group, *, proposer, kind: str, title: str = "Sam dispatches"):
    now = timezone.now()
    return Proposal.objects.create(
        group=group,
        kind=kind,
        title=title,
        text="Sam knows the area.",
        proposed_by=proposer,
        created_at=now - timedelta(days=7),
        closes_at=now,
        rule=DecisionRule.CONSENT,
        quorum_percent=25,
        majority_percent=67,
        status=Proposal.Status.PASSED,
        outcome=Proposal.Outcome.PASSED,
        closed_at=now,
    )


def test_the_two_person_rule_gives_roles_in_the_first_30_days_only():
    group = make_group()
    proposer, holder = member_of(group), member_of(group)
    assert permissions.in_founding_period(group) is True

    older(group, days=31)

    assert permissions.in_founding_period(group) is False
    with pytest.raises(ApplicationError, match=AFTER_FOUNDING):
        services.role_grant_propose(
            group=group, proposer=proposer, holder=holder, role=Role.DISPATCHER, reason="Helps"
        )


def test_a_grant_proposed_while_new_cannot_be_confirmed_after_30_days():
    group = make_group()
    proposer, holder, confirmer = member_of(group), member_of(group), member_of(group)
    grant = services.role_grant_propose(
        group=group, proposer=proposer, holder=holder, role=Role.DISPATCHER, reason="Helps"
    )

    older(group, days=30)

    with pytest.raises(ApplicationError, match=AFTER_FOUNDING):
        services.role_grant_confirm(grant=grant, confirmer=confirmer)
    grant.refresh_from_db()
    assert grant.confirmed_at is None


def test_a_passed_proposal_gives_a_role_in_force_at_once():
    group = older(make_group(), days=60)
    proposer, holder = member_of(group), member_of(group)
    proposal = passed_proposal(group, proposer=proposer, kind=Proposal.Kind.ROLE_GRANT)

    grant = services.role_grant_by_decision(
        proposal=proposal, holder=holder, role=Role.TREASURER, days=90
    )

    assert (grant.holder, grant.role, grant.proposed_by, grant.reason) == (
        holder,
        Role.TREASURER,
        proposer,
        "Sam dispatches",
    )
    assert grant.expires_at - grant.confirmed_at == timedelta(days=90)
    assert permissions.holds_role(holder, group, Role.TREASURER) is True


def test_a_role_is_given_by_decision_only_to_a_member_and_for_at_most_a_year():
    group = make_group()
    proposer = member_of(group)
    proposal = passed_proposal(group, proposer=proposer, kind=Proposal.Kind.ROLE_GRANT)

    with pytest.raises(ApplicationError, match=r"^Roles can only be given to members"):
        services.role_grant_by_decision(
            proposal=proposal, holder=UserFactory(), role=Role.TREASURER, days=90
        )
    with pytest.raises(
        ApplicationError, match=exactly("A role can be given for at most 365 days.")
    ):
        services.role_grant_by_decision(
            proposal=proposal, holder=proposer, role=Role.TREASURER, days=366
        )
    with pytest.raises(ApplicationError, match=exactly("Unknown role.")):
        services.role_grant_by_decision(proposal=proposal, holder=proposer, role="king", days=9)
    assert not RoleGrant.objects.filter(role=Role.TREASURER).exists()


def test_renewal_extends_a_role_in_force_and_never_shortens_it():
    group = make_group()
    proposer, holder = member_of(group), member_of(group)
    proposal = passed_proposal(group, proposer=proposer, kind=Proposal.Kind.ROLE_GRANT)
    grant = services.role_grant_by_decision(
        proposal=proposal, holder=holder, role=Role.DISPATCHER, days=10
    )
    renewal = passed_proposal(group, proposer=proposer, kind=Proposal.Kind.ROLE_RENEW)

    renewed = services.role_grant_renew_by_decision(proposal=renewal, grant=grant, days=100)
    assert renewed.pk == grant.pk
    assert renewed.expires_at - timezone.now() > timedelta(days=99)

    kept = services.role_grant_renew_by_decision(proposal=renewal, grant=grant, days=5)
    assert kept.expires_at == renewed.expires_at


def test_renewing_a_role_that_ended_gives_it_afresh():
    group = make_group()
    proposer, holder = member_of(group), member_of(group)
    proposal = passed_proposal(group, proposer=proposer, kind=Proposal.Kind.ROLE_GRANT)
    grant = services.role_grant_by_decision(
        proposal=proposal, holder=holder, role=Role.DISPATCHER, days=10
    )
    services.role_grant_step_down(grant=grant, holder=holder)
    renewal = passed_proposal(group, proposer=proposer, kind=Proposal.Kind.ROLE_RENEW)

    renewed = services.role_grant_renew_by_decision(proposal=renewal, grant=grant, days=30)

    assert renewed.pk != grant.pk
    assert (renewed.holder, renewed.role) == (holder, Role.DISPATCHER)
    assert permissions.holds_role(holder, group, Role.DISPATCHER) is True


def test_a_passed_proposal_takes_a_role_back_once():
    group = make_group()
    proposer, holder = member_of(group), member_of(group)
    proposal = passed_proposal(group, proposer=proposer, kind=Proposal.Kind.ROLE_GRANT)
    grant = services.role_grant_by_decision(
        proposal=proposal, holder=holder, role=Role.DISPATCHER, days=10
    )
    revocation = passed_proposal(group, proposer=proposer, kind=Proposal.Kind.ROLE_REVOKE)

    revoked = services.role_grant_revoke_by_decision(proposal=revocation, grant=grant)
    first_revoked_at = revoked.revoked_at
    again = services.role_grant_revoke_by_decision(proposal=revocation, grant=grant)

    assert permissions.holds_role(holder, group, Role.DISPATCHER) is False
    assert again.revoked_at == first_revoked_at


def test_a_role_of_another_group_cannot_be_taken_back_by_this_groups_decision():
    group, other = make_group(), make_group()
    holder = member_of(other)
    grant = services.role_grant_by_decision(
        proposal=passed_proposal(other, proposer=holder, kind=Proposal.Kind.ROLE_GRANT),
        holder=holder,
        role=Role.DISPATCHER,
        days=10,
    )
    revocation = passed_proposal(group, proposer=member_of(group), kind=Proposal.Kind.ROLE_REVOKE)

    with pytest.raises(ApplicationError, match=exactly("That role belongs to another group.")):
        services.role_grant_revoke_by_decision(proposal=revocation, grant=grant)
    assert permissions.holds_role(holder, other, Role.DISPATCHER) is True


def test_a_passed_policy_proposal_changes_the_policies_and_says_what_changed():
    group = make_group()
    proposal = passed_proposal(group, proposer=member_of(group), kind=Proposal.Kind.POLICY)

    changed = services.group_policy_change_by_decision(
        proposal=proposal,
        changes={"decision_rule": DecisionRule.CONSENSUS, "spending_limit_minor": 10000},
    )

    group.refresh_from_db()
    assert (group.decision_rule, group.spending_limit_minor) == (DecisionRule.CONSENSUS, 10000)
    assert changed == {
        "decision_rule": {"before": "consent", "after": "consensus"},
        "spending_limit_minor": {"before": 5000, "after": 10000},
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "Taken over"}, exactly("That is not a policy a proposal can change.")),
        ({"quorum_percent": 0}, "greater than or equal to 1"),
        ({"decision_rule": "dictator"}, "is not a valid choice"),
    ],
)
def test_a_policy_change_outside_the_rules_changes_nothing(changes, message):
    group = make_group()
    proposal = passed_proposal(group, proposer=member_of(group), kind=Proposal.Kind.POLICY)

    with pytest.raises(ApplicationError, match=message):
        services.group_policy_change_by_decision(proposal=proposal, changes=changes)

    group.refresh_from_db()
    assert (group.name.startswith("Ward"), group.quorum_percent, group.decision_rule) == (
        True,
        25,
        DecisionRule.CONSENT,
    )


def test_the_two_person_role_page_sends_an_older_group_to_a_role_proposal(client):
    group = older(make_group(), days=31)
    member = member_of(group)
    client.force_login(member)

    response = client.get(reverse("groups:role_propose", kwargs={"slug": group.slug}))

    assert response.status_code == 302
    assert response.url == f"/groups/{group.slug}/decisions/new/?kind=role_grant"


def test_the_group_page_offers_the_two_person_rule_only_while_the_group_is_new(client):
    group = make_group()
    client.force_login(member_of(group))
    two_person = reverse("groups:role_propose", kwargs={"slug": group.slug})

    assert two_person in client.get(group.get_absolute_url()).content.decode()
    older(group, days=31)
    assert two_person not in client.get(group.get_absolute_url()).content.decode()


def test_after_30_days_a_steward_cannot_change_how_the_group_decides_or_spends_alone():
    group = older(make_group(), days=31)
    steward = group.created_by

    with pytest.raises(PermissionDenied, match="changes only by a policy proposal"):
        services.group_update(actor=steward, group=group, spending_limit_minor=100000)
    with pytest.raises(PermissionDenied, match="changes only by a policy proposal"):
        services.group_update(actor=steward, group=group, decision_rule=DecisionRule.CONSENSUS)
    group.refresh_from_db()
    assert (group.spending_limit_minor, group.decision_rule) == (5000, DecisionRule.CONSENT)
    # what is not decided together, and a policy left as it is, still change
    services.group_update(actor=steward, group=group, name="Renamed", spending_limit_minor=5000)
    group.refresh_from_db()
    assert group.name == "Renamed"


def test_after_30_days_the_settings_page_shows_those_policies_as_decided_by_proposal(client):
    group = older(make_group(), days=31)
    client.force_login(group.created_by)

    html = client.get(reverse("groups:edit", kwargs={"slug": group.slug})).content.decode()

    assert html.count("The group changes this by a policy proposal.") == 6
    assert re.search(r'<input[^>]*name="spending_limit"[^>]*disabled', html)
