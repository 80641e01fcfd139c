import io
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse

from mutualaid.common.geo import distance_km
from mutualaid.decisions.models import Proposal
from mutualaid.demo import AREA_SLUG, DEMO_EMAIL, DEMO_PASSWORD, load_demo
from mutualaid.funds.ledger import ledger_replay
from mutualaid.funds.models import Account, Disbursement, Fund, Transaction
from mutualaid.groups.models import Group, JoinRequest, Membership, Role, RoleGrant
from mutualaid.needs.models import (
    Assignment,
    Channel,
    Offer,
    ReimbursementClaim,
    Request,
    StandingNeed,
)
from mutualaid.notify.models import Delivery
from mutualaid.people.models import ALL_WEEK, SPOKEN_LANGUAGES, Skill, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _receipts_in_a_folder_of_the_tests_own(settings, tmp_path):
    """The demo's reimbursement claim has a receipt file."""
    settings.MEDIA_ROOT = tmp_path


def _roles_in_force(group: Group) -> set[tuple[str, str]]:
    return {
        (grant.role, grant.holder.display_name)
        for grant in RoleGrant.objects.in_force().filter(group=group).select_related("holder")
    }


def test_demo_builds_an_area_with_three_wards():
    # when
    loaded = load_demo()

    # then
    assert loaded is True
    area = Group.objects.get(slug=AREA_SLUG)
    assert (area.name, area.kind, area.parent) == (
        "Manchester South Mutual Aid",
        Group.Kind.AREA,
        None,
    )
    wards = list(area.children.order_by("name"))
    assert [(ward.name, ward.kind) for ward in wards] == [
        ("Levenshulme Mutual Aid", Group.Kind.WARD),
        ("Longsight Mutual Aid", Group.Kind.WARD),
        ("Rusholme Mutual Aid", Group.Kind.WARD),
    ]
    assert Group.objects.count() == 4
    for ward in wards:
        assert ward.radius_km == Decimal("1.50")
        assert ward.hotline_phone.startswith("+44 161 496 0")
        assert distance_km(
            float(area.centre_latitude),
            float(area.centre_longitude),
            float(ward.centre_latitude),
            float(ward.centre_longitude),
        ) < float(area.radius_km)
    assert [ward.join_needs_vouch for ward in wards] == [False, False, True]


def test_demo_members_have_verified_logins_and_rough_profiles():
    # when
    load_demo()

    # then
    members = list(User.objects.prefetch_related("skills"))
    assert len(members) == 60
    assert len({member.display_name for member in members}) == 60
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 60
    codes = {code for code, _name in SPOKEN_LANGUAGES}
    area = Group.objects.get(slug=AREA_SLUG)
    for member in members:
        assert member.email.endswith("@mutualaid.example")
        assert member.languages
        assert set(member.languages) <= codes
        assert 0 < member.availability <= ALL_WEEK
        assert member.home_area in {"M12", "M13", "M14", "M19"}
        assert member.home_latitude == member.home_latitude.quantize(Decimal("0.01"))
        assert (
            distance_km(
                float(area.centre_latitude),
                float(area.centre_longitude),
                float(member.home_latitude),
                float(member.home_longitude),
            )
            < 6
        )
        assert 1 <= member.skills.count() <= 3
        assert member.consent_at is not None
    assert not Skill.objects.filter(group__isnull=False).exists()


def test_demo_login_works_with_the_printed_password():
    # given
    out = io.StringIO()

    # when
    call_command("load_demo", stdout=out)

    # then
    demo = User.objects.get(email=DEMO_EMAIL)
    assert authenticate(email=DEMO_EMAIL, password=DEMO_PASSWORD) == demo
    assert f"password: {DEMO_PASSWORD}" in out.getvalue()
    assert (
        "Loaded the demo data: 4 groups in Manchester and 60 members, 22 requests for help, "
        "6 offers, 2 funds and 6 proposals."
    ) in out.getvalue()


def test_demo_members_are_spread_over_the_wards_and_the_area():
    # when
    load_demo()

    # then
    counts = {group.name: group.memberships.count() for group in Group.objects.order_by("name")}
    assert counts == {
        "Levenshulme Mutual Aid": 18,
        "Longsight Mutual Aid": 18,
        "Manchester South Mutual Aid": 37,
        "Rusholme Mutual Aid": 17,
    }
    newcomer = JoinRequest.objects.get(status=JoinRequest.Status.PENDING).applicant
    assert list(User.objects.filter(memberships__isnull=True)) == [newcomer]
    in_area_only = User.objects.filter(memberships__group__kind=Group.Kind.AREA).exclude(
        memberships__group__kind=Group.Kind.WARD
    )
    assert in_area_only.count() == 6


def test_demo_roles_are_in_force_and_were_given_by_two_people():
    # when
    load_demo()

    # then
    groups = {group.name: group for group in Group.objects.all()}
    assert _roles_in_force(groups["Manchester South Mutual Aid"]) == {
        (Role.STEWARD, "Sunny Fox"),
        (Role.DISPATCHER, "Sunny Fox"),
        (Role.TREASURER, "Quiet Otter"),
        (Role.COORDINATOR, "Night Owl"),
    }
    assert {role for role, _name in _roles_in_force(groups["Levenshulme Mutual Aid"])} == {
        Role.STEWARD,
        Role.DISPATCHER,
        Role.TREASURER,
    }
    assert {role for role, _name in _roles_in_force(groups["Longsight Mutual Aid"])} == {
        Role.STEWARD,
        Role.DISPATCHER,
        Role.COORDINATOR,
    }
    assert {role for role, _name in _roles_in_force(groups["Rusholme Mutual Aid"])} == {
        Role.STEWARD,
        Role.DISPATCHER,
    }
    for grant in RoleGrant.objects.in_force().exclude(role=Role.STEWARD):
        assert grant.confirmed_by_id not in {grant.proposed_by_id, grant.holder_id, None}
        assert Membership.objects.filter(group=grant.group, member=grant.holder).exists()
    awaiting = RoleGrant.objects.awaiting_confirmation().get()
    assert (awaiting.group.name, awaiting.role) == ("Longsight Mutual Aid", Role.HUB_KEEPER)


def test_demo_vouching_ward_has_vouched_members_and_one_newcomer_waiting():
    # when
    load_demo()

    # then
    rusholme = Group.objects.get(name="Rusholme Mutual Aid")
    pending = JoinRequest.objects.get(group=rusholme, status=JoinRequest.Status.PENDING)
    assert not Membership.objects.filter(group=rusholme, member=pending.applicant).exists()
    assert (
        Membership.objects.filter(group=rusholme, vouched_by__isnull=False).count()
        == rusholme.memberships.count() - 1  # everyone but the founder was vouched for
    )


def test_demo_loads_once(django_assert_num_queries):
    # given
    assert load_demo() is True
    counts = (User.objects.count(), Membership.objects.count(), RoleGrant.objects.count())
    out = io.StringIO()

    # when: only a look for the area group, inside its savepoint
    with django_assert_num_queries(3):
        loaded = load_demo(stdout=out)

    # then
    assert loaded is False
    assert out.getvalue() == "The demo data is already loaded.\n"
    assert (
        User.objects.count(),
        Membership.objects.count(),
        RoleGrant.objects.count(),
    ) == counts
    assert Group.objects.count() == 4


def test_demo_group_has_requests_in_every_state_and_current_offers():
    # when
    load_demo()

    # then
    area = Group.objects.get(slug=AREA_SLUG)
    by_status = dict(
        Request.objects.filter(group=area).values_list("status").annotate(n=Count("pk")).order_by()
    )
    assert by_status == {
        Request.Status.OPEN: 8,
        Request.Status.CLAIMED: 3,
        Request.Status.DONE: 8,
        Request.Status.UNMET: 2,
        Request.Status.CANCELLED: 1,
    }
    demo = User.objects.get(email=DEMO_EMAIL)
    held = Request.objects.get(status=Request.Status.CLAIMED, claimed_by=demo)
    assert held.messages.count() == 2
    assert Request.objects.filter(channel=Channel.PHONE, created_by=demo).count() >= 1
    assert StandingNeed.objects.filter(volunteer__isnull=False).count() == 1
    assert ReimbursementClaim.objects.get().amount_minor == 2340
    assert Offer.objects.filter(group=area, status=Offer.Status.ACTIVE).count() == 6
    # The weekly report has a history to show.
    weeks = {request.created_at.isocalendar()[:2] for request in Request.objects.all()}
    assert len(weeks) >= 6


def test_demo_requests_email_nobody(mailoutbox):
    # when
    load_demo()

    # then
    assert Delivery.objects.count() == 0
    assert mailoutbox == []


def test_the_demo_dispatcher_matches_every_open_request_in_one_click(client):
    # given
    load_demo()
    area = Group.objects.get(slug=AREA_SLUG)
    client.force_login(User.objects.get(email=DEMO_EMAIL))
    url = reverse("dispatch:match_all", kwargs={"slug": area.slug})
    assert '<dd id="open-count">8</dd>' in client.get(url).content.decode()

    # when
    response = client.post(url)

    # then: each open request waits for one volunteer of the area who fits it
    assert response.status_code == 302
    proposals = list(
        Assignment.objects.filter(request__group=area, answer=Assignment.Answer.PENDING)
        .select_related("request", "member")
        .order_by("request_id")
    )
    assert len(proposals) == Request.objects.filter(group=area, status="open").count() == 8
    for proposal in proposals:
        assert proposal.source == Assignment.Source.MATCHING
        assert Membership.objects.filter(group=area, member=proposal.member).exists()
        if proposal.request.language:
            assert proposal.request.language in proposal.member.languages
    html = client.get(url).content.decode()
    assert "8 requests were proposed to volunteers" in html
    assert "0 requests were left over." in html


def test_demo_books_balance_and_show_two_months_of_money_in_and_out():
    # when
    load_demo()

    # then: the replay of every entry agrees with the kept balances
    assert ledger_replay() == []
    area = Group.objects.get(slug=AREA_SLUG)
    balances = {
        fund.name: fund.accounts.get(kind=Account.Kind.HOLDINGS).balance_minor
        for fund in Fund.objects.filter(group=area)
    }
    assert balances == {"Hardship fund": 77000, "Shopping float": 22660}
    months = {posted.month for posted in Transaction.objects.values_list("posted_at", flat=True)}
    assert len(months) >= 2
    assert Transaction.objects.filter(kind=Transaction.Kind.REVERSAL).count() == 1
    statuses = sorted(Disbursement.objects.values_list("status", flat=True))
    assert statuses == [
        "awaiting_confirmation",
        "paid",
        "paid",
        "paid",
        "paid",
        "paid",
        "proposed",
    ]
    claim = ReimbursementClaim.objects.get()
    assert claim.status == ReimbursementClaim.Status.PAID
    assert claim.receipt.content_type == "application/pdf"


def test_demo_proposals_passed_blocked_and_open_with_their_effects():
    load_demo()

    area = Group.objects.get(slug=AREA_SLUG)
    assert area.decision_rule == "consensus"
    outcomes = {
        proposal.title: (proposal.status, proposal.outcome)
        for proposal in Proposal.objects.filter(group=area)
    }
    assert outcomes["Pay for a neighbour's cooker repair"] == ("passed", "passed")
    assert outcomes["Keep Quiet Otter as treasurer for six more months"] == ("passed", "passed")
    assert outcomes["Hand out supermarket vouchers instead of cash"] == ("not_passed", "blocked")
    assert sorted(status for status, _outcome in outcomes.values()) == [
        "not_passed",
        "open",
        "open",
        "open",
        "passed",
        "passed",
    ]
    repair = Proposal.objects.get(title="Pay for a neighbour's cooker repair")
    assert repair.disbursement.status == Disbursement.Status.PAID
    renewal = Proposal.objects.get(kind=Proposal.Kind.ROLE_RENEW)
    assert renewal.role_grant is not None
    assert renewal.role_grant.holder.display_name == "Quiet Otter"
    assert not Proposal.objects.exclude(effect_error="").exists()
