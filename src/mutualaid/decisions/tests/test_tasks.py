"""The periodic jobs and the emails about proposals: who hears what, when, and only once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from freezegun import freeze_time

from mutualaid.decisions import services, tasks
from mutualaid.decisions.tests.factories import (
    close,
    deciding_group,
    fund_with,
    make_proposal,
    member_of,
    spend,
    stances,
)
from mutualaid.groups import services as group_services
from mutualaid.needs.notifications import paused
from mutualaid.notify.models import Delivery
from mutualaid.people.models import User
from mutualaid.people.services import member_erase

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _mail_to_the_outbox(settings):
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM
    settings.SITE_URL = "https://aid.example.org"


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Runs what services queue after commit (the email tasks, then the deliveries), as the
    worker would once the transaction has committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def sent_to(address: str):
    (message,) = [message for message in mail.outbox if address in message.to]
    return message


def _url(proposal) -> str:
    return f"https://aid.example.org/groups/{proposal.group.slug}/decisions/{proposal.pk}/"


def _group_with(names: list[str], **policies):
    """A group whose founder is the first name, with a member for each other name; members are
    (display name, address) pairs reachable as group.people[name]."""
    group = deciding_group(**policies)
    founder = group.created_by
    User.objects.filter(pk=founder.pk).update(display_name=names[0])
    founder.refresh_from_db()
    people = {names[0]: founder}
    for name in names[1:]:
        people[name] = member_of(group, display_name=name, email=f"{name.lower()}@example.org")
    group.people = people  # type: ignore[attr-defined]
    return group


def test_opening_a_proposal_tells_every_member_but_the_proposer(run_tasks):
    # given
    group = _group_with(["Founder", "Ada", "Bea", "Cy"], name="Levenshulme Mutual Aid")
    ada = group.people["Ada"]
    # when
    with run_tasks():
        proposal = make_proposal(
            group,
            proposer=ada,
            title="Weekly pantry on Saturdays",
            closes_at=timezone.now() + timedelta(days=3),
        )
    # then
    assert recipients() == sorted(
        [group.people["Founder"].email, "bea@example.org", "cy@example.org"]
    )
    message = sent_to("bea@example.org")
    assert message.subject == (
        "[Mutual Aid] New proposal in Levenshulme Mutual Aid: Weekly pantry on Saturdays"
    )
    assert "Hello Bea," in message.body
    assert "“Weekly pantry on Saturdays”" in message.body
    assert "Kind: general" in message.body
    assert "Proposed by: Ada" in message.body
    assert "decided by consent" in message.body
    assert _url(proposal) in message.body
    assert "Mutual Aid, for Levenshulme Mutual Aid" in message.body


def test_the_opening_email_is_sent_once_however_often_the_task_runs(run_tasks):
    group = _group_with(["Founder", "Ada", "Bea"])
    with run_tasks():
        proposal = make_proposal(group, proposer=group.people["Ada"])
    assert tasks.proposal_opened_notify.call(proposal.pk) == 0
    assert len(mail.outbox) == 2


def test_members_who_left_their_account_hear_nothing(run_tasks):
    group = _group_with(["Founder", "Ada", "Bea"])
    member_erase(member=group.people["Bea"])
    with run_tasks():
        make_proposal(group, proposer=group.people["Ada"])
    assert recipients() == [group.people["Founder"].email]


def test_nothing_is_sent_while_notifications_are_paused(run_tasks):
    group = _group_with(["Founder", "Ada"])
    with paused(), run_tasks():
        make_proposal(group, proposer=group.people["Ada"])
    assert mail.outbox == []


def test_each_email_is_keyed_by_the_proposal_and_the_member(run_tasks):
    group = _group_with(["Founder", "Ada", "Bea"])
    with run_tasks():
        proposal = make_proposal(group, proposer=group.people["Ada"])
    assert sorted(Delivery.objects.values_list("idempotency_key", flat=True)) == sorted(
        f"proposal-opened:{proposal.pk}:member-{group.people[name].pk}"
        for name in ("Founder", "Bea")
    )


def test_the_opening_email_says_what_a_role_proposal_would_do(run_tasks):
    group = _group_with(["Founder", "Ada", "Bea"])
    with run_tasks():
        make_proposal(
            group,
            proposer=group.people["Ada"],
            kind="role_grant",
            effect={"holder": group.people["Bea"].pk, "role": "treasurer", "days": 90},
        )
    message = sent_to("bea@example.org")
    assert "If it passes:\n- Give Bea the role of treasurer for 90 days." in message.body


def test_the_opening_email_says_what_a_spend_would_pay(run_tasks):
    group = _group_with(["Founder", "Ada"], currency="GBP")
    fund = fund_with(group, balance_minor=10_000)
    with run_tasks():
        make_proposal(
            group, proposer=group.people["Ada"], kind="spend", spend=spend(fund, 5_000, "Vouchers")
        )
    message = sent_to(group.people["Founder"].email)
    assert "- Pay £50.00 from the fund “Hardship fund” for: Vouchers" in message.body


def test_the_opening_email_says_what_a_policy_change_would_set(run_tasks):
    group = _group_with(["Founder", "Ada"])
    with run_tasks():
        make_proposal(
            group,
            proposer=group.people["Ada"],
            kind="policy",
            effect={
                "changes": {
                    "decision_rule": "consensus",
                    "spending_limit_minor": 2_500,
                    "join_needs_vouch": True,
                }
            },
        )
    body = sent_to(group.people["Founder"].email).body
    assert "- how proposals pass: consensus" in body
    assert "- spending limit without a proposal (in cents): £25.00" in body
    assert "- joining needs a vouch from a member: yes" in body


# Reminders


def test_a_day_before_closing_every_member_is_reminded_with_their_stance(run_tasks):
    # given
    group = _group_with(["Founder", "Ada", "Bea"])
    proposal = make_proposal(group, proposer=group.people["Ada"], title="Pantry")
    stances(proposal, [group.people["Bea"]], "disagree")
    mail.outbox.clear()
    # when
    with run_tasks():
        reminded = services.proposals_remind_closing(now=proposal.closes_at - timedelta(hours=3))
    # then
    assert reminded == 1
    assert recipients() == sorted(
        [group.people["Founder"].email, "ada@example.org", "bea@example.org"]
    )
    assert sent_to("bea@example.org").subject == "[Mutual Aid] Closing within a day: Pantry"
    assert "Your stance: disagree. You can change it until it closes:" in (
        sent_to("bea@example.org").body
    )
    assert "You have not taken a stance yet." in sent_to("ada@example.org").body


def test_the_reminder_job_reminds_once(run_tasks):
    group = _group_with(["Founder", "Ada"])
    proposal = make_proposal(group, proposer=group.people["Ada"])
    mail.outbox.clear()
    with run_tasks():
        services.proposals_remind_closing(now=proposal.closes_at - timedelta(hours=3))
        services.proposals_remind_closing(now=proposal.closes_at - timedelta(hours=2))
    assert tasks.proposal_closing_notify.call(proposal.pk) == 0
    assert len(mail.outbox) == 2


# The second round


def test_a_vote_opening_tells_every_member_and_the_first_round_is_not_carried_over(run_tasks):
    # given
    group = _group_with(["Founder", "Ada", "Bea"], rule="consensus_then_vote", majority_percent=75)
    proposal = make_proposal(group, proposer=group.people["Ada"], title="Pantry")
    stances(proposal, [group.people["Bea"]], "block")
    mail.outbox.clear()
    # when
    with run_tasks():
        close(proposal)
    # then
    assert recipients() == sorted(
        [group.people["Founder"].email, "ada@example.org", "bea@example.org"]
    )
    message = sent_to("bea@example.org")
    assert message.subject == f"[Mutual Aid] A vote is open in {group.name}: Pantry"
    assert "It passes if at least 75% of those who vote agree" in message.body


# The outcome, to the proposer


def test_the_proposer_hears_that_their_proposal_passed_and_took_effect(run_tasks):
    # given
    group = _group_with(["Founder", "Ada", "Bea"])
    proposal = make_proposal(
        group,
        proposer=group.people["Ada"],
        title="Bea keeps the books",
        kind="role_grant",
        effect={"holder": group.people["Bea"].pk, "role": "treasurer", "days": 90},
    )
    mail.outbox.clear()
    # when
    with run_tasks():
        close(proposal)
    # then
    assert recipients() == ["ada@example.org"]
    message = sent_to("ada@example.org")
    assert message.subject == "[Mutual Aid] Your proposal passed: Bea keeps the books"
    assert "has closed, and it passed." in message.body
    assert "What it does:\n- Give Bea the role of treasurer for 90 days." in message.body
    assert "It has taken effect." in message.body
    assert _url(proposal) in message.body


def test_the_proposer_hears_why_it_did_not_pass(run_tasks):
    group = _group_with(["Founder", "Ada", "Bea"])
    proposal = make_proposal(group, proposer=group.people["Ada"], title="Pantry")
    stances(proposal, [group.people["Bea"]], "block")
    mail.outbox.clear()
    with run_tasks():
        close(proposal)
    message = sent_to("ada@example.org")
    assert message.subject == "[Mutual Aid] Your proposal did not pass: Pantry"
    assert "has closed, and it did not pass: blocked." in message.body


def test_the_proposer_hears_when_the_effect_could_not_be_carried_out(run_tasks):
    group = _group_with(["Founder", "Ada", "Bea"])
    proposal = make_proposal(
        group,
        proposer=group.people["Ada"],
        kind="role_grant",
        effect={"holder": group.people["Bea"].pk, "role": "treasurer", "days": 90},
    )
    group_services.group_leave(group=group, member=group.people["Bea"])
    mail.outbox.clear()
    with run_tasks():
        close(proposal)
    body = sent_to("ada@example.org").body
    assert "It could not take effect: Roles can only be given to members of the group." in body
    assert "It has taken effect." not in body


def test_a_withdrawn_proposal_sends_no_outcome(run_tasks):
    group = _group_with(["Founder", "Ada"])
    proposal = make_proposal(group, proposer=group.people["Ada"])
    mail.outbox.clear()
    with run_tasks():
        services.proposal_withdraw(proposal=proposal, actor=group.people["Ada"])
    assert mail.outbox == []
    assert tasks.proposal_closed_notify.call(proposal.pk) == 0


# The periodic jobs


def test_the_close_job_closes_what_is_due(run_tasks):
    group = _group_with(["Founder", "Ada"])
    proposal = make_proposal(group, proposer=group.people["Ada"])
    with freeze_time(proposal.closes_at + timedelta(minutes=5)), run_tasks():
        closed = tasks.proposals_close_due_task.call()
    proposal.refresh_from_db()
    assert (closed, proposal.status) == (1, "passed")


def test_the_reminder_job_reminds_what_closes_within_a_day(run_tasks):
    group = _group_with(["Founder", "Ada"])
    proposal = make_proposal(group, proposer=group.people["Ada"])
    with freeze_time(proposal.closes_at - timedelta(hours=5)), run_tasks():
        reminded = tasks.proposals_remind_closing_task.call()
    assert reminded == 1
