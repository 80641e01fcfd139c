"""Making, withdrawing, taking stances on and commenting on proposals."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from freezegun import freeze_time

from mutualaid.common.errors import ApplicationError
from mutualaid.decisions import services
from mutualaid.decisions.models import Comment, Proposal, Stance
from mutualaid.decisions.tests.factories import (
    close,
    deciding_group,
    make_proposal,
    member_of,
    stances,
)
from mutualaid.groups import services as group_services
from mutualaid.groups.models import Role
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def _create(group, proposer, **fields):
    fields.setdefault("kind", Proposal.Kind.GENERAL)
    fields.setdefault("title", "Weekly pantry on Saturdays")
    fields.setdefault("text", "Open the pantry every Saturday morning.")
    fields.setdefault("closes_at", timezone.now() + 3 * DAY)
    return services.proposal_create(group=group, proposer=proposer, **fields)


# proposal_create


def test_a_member_proposes_and_the_group_rule_is_copied_onto_the_proposal():
    # given
    group = deciding_group(rule="consensus_then_vote", quorum_percent=40, majority_percent=75)
    proposer = member_of(group)
    closes_at = timezone.now() + 3 * DAY
    # when
    proposal = _create(group, proposer, title="  Weekly pantry  ", closes_at=closes_at)
    # then
    proposal.refresh_from_db()
    assert (proposal.title, proposal.kind, proposal.status, proposal.round) == (
        "Weekly pantry",
        "general",
        "open",
        1,
    )
    assert (proposal.rule, proposal.quorum_percent, proposal.majority_percent) == (
        "consensus_then_vote",
        40,
        75,
    )
    assert proposal.proposed_by == proposer
    assert proposal.closes_at == closes_at
    assert proposal.round_started_at == proposal.created_at
    assert proposal.effect == {}


def test_a_later_policy_change_does_not_change_an_open_proposal():
    # given
    group = deciding_group(rule="consent")
    proposal = make_proposal(group)
    # when
    group.decision_rule = "consensus"
    group.save()
    # then
    proposal.refresh_from_db()
    assert proposal.rule == "consent"


def test_a_non_member_cannot_propose():
    group = deciding_group()
    with pytest.raises(PermissionDenied):
        _create(group, UserFactory())
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "election"}, "Unknown kind of proposal."),
        ({"title": "   "}, "Please give the proposal a title."),
        ({"title": "x" * 201}, "A title can be at most 200 characters."),
        ({"text": ""}, "Please say what you propose."),
        ({"text": "x" * 5001}, "A proposal can be at most 5000 characters."),
        ({"text": "Nul\x00here"}, "Please remove the unusual characters from the text."),
        ({"effect": {"holder": 1}}, "This kind of proposal carries no effect."),
        ({"kind": "spend"}, "Say which fund to spend from, how much and for what."),
    ],
)
def test_a_proposal_needs_a_known_kind_a_title_and_a_text(fields, message):
    group = deciding_group()
    with pytest.raises(ApplicationError) as caught:
        _create(group, member_of(group), **fields)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("open_for", "message"),
    [
        (timedelta(hours=23, minutes=59), "A proposal stays open for at least 24 hours."),
        (-DAY, "A proposal stays open for at least 24 hours."),
        (timedelta(days=30, minutes=1), "A proposal can stay open for at most 30 days."),
    ],
)
def test_a_proposal_stays_open_between_a_day_and_a_month(open_for, message):
    group = deciding_group()
    with pytest.raises(ApplicationError) as caught:
        _create(group, member_of(group), closes_at=timezone.now() + open_for)
    assert caught.value.message == message


@pytest.mark.parametrize("open_for", [timedelta(hours=24, minutes=1), timedelta(days=29, hours=23)])
def test_a_proposal_may_stay_open_for_a_day_or_up_to_a_month(open_for):
    group = deciding_group()
    proposal = _create(group, member_of(group), closes_at=timezone.now() + open_for)
    assert proposal.status == "open"


# Effects checked when proposing


def test_a_role_grant_proposal_names_a_member_a_role_and_days():
    # given
    group = deciding_group()
    holder = member_of(group)
    # when
    proposal = _create(
        group,
        member_of(group),
        kind="role_grant",
        effect={"holder": holder.pk, "role": "treasurer", "days": 90},
    )
    # then
    assert proposal.effect == {"holder": holder.pk, "role": "treasurer", "days": 90}


@pytest.mark.parametrize(
    ("effect", "message"),
    [
        ({"holder": "me", "role": "treasurer", "days": 90}, "The proposal's effect is incomplete."),
        ({"role": "treasurer", "days": 90}, "The proposal's effect is incomplete."),
        ({"holder": None, "role": "mayor", "days": 90}, "The proposal's effect is incomplete."),
        ({"role": "mayor", "days": 90}, "The proposal's effect is incomplete."),
        ("treasurer", "The proposal's effect is incomplete."),
    ],
)
def test_a_role_grant_effect_must_be_complete(effect, message):
    group = deciding_group()
    with pytest.raises(ApplicationError) as caught:
        _create(group, member_of(group), kind="role_grant", effect=effect)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": "mayor"}, "Unknown role."),
        ({"days": 0}, "A role can be given for 1 to 365 days."),
        ({"days": 366}, "A role can be given for 1 to 365 days."),
        ({"days": True}, "The proposal's effect is incomplete."),
        ({"days": "30"}, "The proposal's effect is incomplete."),
        ({"outsider": True}, "Roles can only be given to members of the group."),
    ],
)
def test_a_role_grant_effect_is_checked(change, message):
    group = deciding_group()
    holder = UserFactory() if change.pop("outsider", False) else member_of(group)
    effect = {"holder": holder.pk, "role": "treasurer", "days": 90, **change}
    with pytest.raises(ApplicationError) as caught:
        _create(group, member_of(group), kind="role_grant", effect=effect)
    assert caught.value.message == message


def _grant(group, *, role=Role.DISPATCHER):
    holder = member_of(group)
    grant = group_services.role_grant_propose(
        group=group, proposer=member_of(group), holder=holder, role=role, reason="Hotline"
    )
    return group_services.role_grant_confirm(grant=grant, confirmer=member_of(group))


def test_renewing_and_revoking_name_a_role_in_force_in_this_group():
    # given
    group = deciding_group()
    grant = _grant(group)
    proposer = member_of(group)
    # when
    renew = _create(group, proposer, kind="role_renew", effect={"grant": grant.pk, "days": 30})
    revoke = _create(group, proposer, kind="role_revoke", effect={"grant": grant.pk})
    # then
    assert renew.effect == {"grant": grant.pk, "days": 30}
    assert revoke.effect == {"grant": grant.pk}


@pytest.mark.parametrize("kind", ["role_renew", "role_revoke"])
def test_a_role_of_another_group_or_not_in_force_cannot_be_renewed_or_revoked(kind):
    # given
    group = deciding_group()
    elsewhere = _grant(deciding_group())
    unconfirmed = group_services.role_grant_propose(
        group=group,
        proposer=member_of(group),
        holder=member_of(group),
        role=Role.TREASURER,
        reason="Books",
    )
    proposer = member_of(group)
    for grant in (elsewhere, unconfirmed):
        # when / then
        with pytest.raises(ApplicationError) as caught:
            _create(group, proposer, kind=kind, effect={"grant": grant.pk, "days": 30})
        assert caught.value.message == "That role is not held in this group now."


def test_a_policy_proposal_changes_only_whitelisted_policies_within_their_ranges():
    # given
    group = deciding_group(rule="consent")
    # when
    proposal = _create(
        group,
        member_of(group),
        kind="policy",
        effect={"changes": {"decision_rule": "consensus", "quorum_percent": 50}},
    )
    # then
    assert proposal.effect == {"changes": {"decision_rule": "consensus", "quorum_percent": 50}}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, "Choose at least one policy to change."),
        ({"name": "New name"}, "That is not a policy a proposal can change."),
        ({"slug": "x"}, "That is not a policy a proposal can change."),
        (
            {"quorum_percent": 0},
            "quorum (% of members who must take a stance): "
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            {"quorum_percent": 101},
            "quorum (% of members who must take a stance): "
            "Ensure this value is less than or equal to 100.",
        ),
        (
            {"fallback_majority_percent": 50},
            "majority needed in a fallback vote (%): "
            "Ensure this value is greater than or equal to 51.",
        ),
        (
            {"retention_days": 3651},
            "days to keep personal data of closed requests: "
            "Ensure this value is less than or equal to 3650.",
        ),
        (
            {"request_pacing_days": 91},
            "days before the same household's next request of a kind comes first again: "
            "Ensure this value is less than or equal to 90.",
        ),
        (
            {"match_radius_km": 0},
            "how far to look for volunteers for a request (km): "
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            {"answer_within_hours": 169},
            "hours a volunteer has to answer a proposed request: "
            "Ensure this value is less than or equal to 168.",
        ),
        (
            {"spending_limit_minor": -1},
            "spending limit without a proposal (in cents): "
            "Ensure this value is greater than or equal to 0.",
        ),
        (
            {"decision_rule": "majority"},
            "how proposals pass: Value 'majority' is not a valid choice.",
        ),
        ({"decision_rule": 1}, "how proposals pass: choose one of the options."),
        ({"join_needs_vouch": "yes"}, "joining needs a vouch from a member: choose yes or no."),
        (
            {"quorum_percent": "50"},
            "quorum (% of members who must take a stance): enter a whole number.",
        ),
        (
            {"reimbursement_limit_minor": 12.5},
            "most a volunteer can claim back at once (in cents): enter a whole number.",
        ),
        ({"decision_rule": "consent"}, "The group already has these policies."),
    ],
)
def test_a_policy_change_is_checked_like_the_groups_own_settings(changes, message):
    group = deciding_group(rule="consent")
    with pytest.raises(ApplicationError) as caught:
        _create(group, member_of(group), kind="policy", effect={"changes": changes})
    assert caught.value.message == message


def test_a_policy_proposal_carries_only_changes():
    group = deciding_group()
    with pytest.raises(ApplicationError) as caught:
        _create(
            group,
            member_of(group),
            kind="policy",
            effect={"changes": {"quorum_percent": 50}, "also": 1},
        )
    assert caught.value.message == "Choose at least one policy to change."


# proposal_withdraw


def test_the_proposer_withdraws_an_open_proposal():
    # given
    proposal = make_proposal()
    # when
    services.proposal_withdraw(proposal=proposal, actor=proposal.proposed_by)
    # then
    proposal.refresh_from_db()
    assert (proposal.status, proposal.outcome) == ("withdrawn", "withdrawn")
    assert proposal.closed_at is not None
    assert proposal.effect_applied_at is None


def test_only_the_proposer_may_withdraw():
    proposal = make_proposal()
    other = member_of(proposal.group)
    with pytest.raises(PermissionDenied):
        services.proposal_withdraw(proposal=proposal, actor=other)
    proposal.refresh_from_db()
    assert proposal.status == "open"


def test_a_closed_proposal_cannot_be_withdrawn():
    # given
    proposal = make_proposal()
    close(proposal)
    # when / then
    with pytest.raises(ApplicationError) as caught:
        services.proposal_withdraw(proposal=proposal, actor=proposal.proposed_by)
    assert (caught.value.status, caught.value.message) == (409, "This proposal has already closed.")
    proposal.refresh_from_db()
    assert proposal.status == "passed"


def test_withdrawing_twice_is_refused_the_second_time():
    proposal = make_proposal()
    services.proposal_withdraw(proposal=proposal, actor=proposal.proposed_by)
    with pytest.raises(ApplicationError):
        services.proposal_withdraw(proposal=proposal, actor=proposal.proposed_by)


def test_a_withdrawn_proposal_is_never_closed_or_applied():
    proposal = make_proposal()
    services.proposal_withdraw(proposal=proposal, actor=proposal.proposed_by)
    close(proposal)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.outcome, proposal.effect_applied_at) == (
        "withdrawn",
        "withdrawn",
        None,
    )


# stance_take


def test_a_member_takes_a_stance_and_may_change_it_until_close():
    # given
    proposal = make_proposal()
    member = member_of(proposal.group)
    # when
    services.stance_take(proposal=proposal, member=member, position="agree")
    services.stance_take(
        proposal=proposal, member=member, position="block", reason="We cannot afford it"
    )
    # then
    assert list(Stance.objects.values_list("member", "round", "position", "reason")) == [
        (member.pk, 1, "block", "We cannot afford it")
    ]


@pytest.mark.parametrize("position", ["disagree", "block"])
def test_disagreeing_or_blocking_needs_a_reason(position):
    proposal = make_proposal()
    with pytest.raises(ApplicationError) as caught:
        services.stance_take(
            proposal=proposal, member=member_of(proposal.group), position=position, reason="  "
        )
    assert caught.value.message == "Please give a reason when you disagree or block."
    assert not Stance.objects.exists()


@pytest.mark.parametrize("position", ["agree", "abstain"])
def test_agreeing_or_abstaining_needs_no_reason(position):
    proposal = make_proposal()
    stance = services.stance_take(
        proposal=proposal, member=member_of(proposal.group), position=position
    )
    assert (stance.position, stance.reason) == (position, "")


def test_an_unknown_stance_or_a_long_reason_is_refused():
    proposal = make_proposal()
    member = member_of(proposal.group)
    with pytest.raises(ApplicationError) as unknown:
        services.stance_take(proposal=proposal, member=member, position="veto", reason="No")
    with pytest.raises(ApplicationError) as long:
        services.stance_take(proposal=proposal, member=member, position="block", reason="x" * 1001)
    assert unknown.value.message == "Choose agree, abstain, disagree or block."
    assert long.value.message == "A reason can be at most 1000 characters."


def test_a_non_member_cannot_take_a_stance():
    proposal = make_proposal()
    with pytest.raises(PermissionDenied):
        services.stance_take(proposal=proposal, member=UserFactory(), position="agree")
    assert not Stance.objects.exists()


def test_a_member_who_left_cannot_take_a_stance():
    proposal = make_proposal()
    member = member_of(proposal.group)
    group_services.group_leave(group=proposal.group, member=member)
    with pytest.raises(PermissionDenied):
        services.stance_take(proposal=proposal, member=member, position="agree")


def test_no_stance_once_closed():
    proposal = make_proposal()
    close(proposal)
    with pytest.raises(ApplicationError) as caught:
        services.stance_take(proposal=proposal, member=member_of(proposal.group), position="agree")
    assert caught.value.status == 409
    assert not Stance.objects.exists()


def test_no_stance_past_the_closing_time_even_before_the_job_closes_it():
    # given
    proposal = make_proposal()
    member = member_of(proposal.group)
    # when / then
    with freeze_time(proposal.closes_at + timedelta(seconds=1)), pytest.raises(ApplicationError):
        services.stance_take(proposal=proposal, member=member, position="agree")
    proposal.refresh_from_db()
    assert proposal.status == "open"
    assert not Stance.objects.exists()


def test_no_stance_on_a_withdrawn_proposal():
    proposal = make_proposal()
    services.proposal_withdraw(proposal=proposal, actor=proposal.proposed_by)
    with pytest.raises(ApplicationError):
        services.stance_take(proposal=proposal, member=member_of(proposal.group), position="agree")


def test_stances_of_the_second_round_are_kept_apart_from_the_first():
    # given a first round that fails under consensus then a vote
    group = deciding_group(rule="consensus_then_vote")
    proposal = make_proposal(group)
    member = member_of(group)
    stances(proposal, [member], "block")
    close(proposal)
    assert proposal.round == 2
    # when
    services.stance_take(proposal=proposal, member=member, position="agree")
    # then
    assert list(Stance.objects.order_by("round").values_list("member", "round", "position")) == [
        (member.pk, 1, "block"),
        (member.pk, 2, "agree"),
    ]


# comment_add


def test_a_member_comments_on_an_open_or_closed_proposal():
    # given
    proposal = make_proposal()
    member = member_of(proposal.group)
    services.comment_add(proposal=proposal, author=member, text="  Who holds the key?  ")
    close(proposal)
    # when
    services.comment_add(proposal=proposal, author=member, text="Thanks, all")
    # then
    assert list(Comment.objects.order_by("pk").values_list("author", "text")) == [
        (member.pk, "Who holds the key?"),
        (member.pk, "Thanks, all"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "Please write a comment."),
        ("x" * 2001, "A comment can be at most 2000 characters."),
        ("bell\x07", "Please remove the unusual characters from the text."),
    ],
)
def test_a_comment_needs_words(text, message):
    proposal = make_proposal()
    with pytest.raises(ApplicationError) as caught:
        services.comment_add(proposal=proposal, author=member_of(proposal.group), text=text)
    assert caught.value.message == message


def test_a_non_member_cannot_comment():
    proposal = make_proposal()
    with pytest.raises(PermissionDenied):
        services.comment_add(proposal=proposal, author=UserFactory(), text="Hello")
    assert not Comment.objects.exists()
