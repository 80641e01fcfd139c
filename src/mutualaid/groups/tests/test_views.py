from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from mutualaid.groups import permissions, services
from mutualaid.groups.models import Group, JoinRequest, Membership, Role, RoleGrant
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def detail_url(group: Group) -> str:
    return reverse("groups:detail", kwargs={"slug": group.slug})


def member_of(group: Group, **fields):
    member = UserFactory(**fields)
    services.group_join(group=group, member=member)
    return member


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def confirmed_grant(group: Group, holder, role: str = Role.DISPATCHER) -> RoleGrant:
    grant = services.role_grant_propose(
        group=group, proposer=member_of(group), holder=holder, role=role, reason="Answers calls"
    )
    return services.role_grant_confirm(grant=grant, confirmer=member_of(group))


# The group page


def test_the_group_page_shows_the_public_details_to_anyone(client):
    area = make_group(name="Manchester Mutual Aid", kind=Group.Kind.AREA)
    group = make_group(
        creator=area.created_by,
        name="Levenshulme",
        kind=Group.Kind.WARD,
        parent=area,
        place="Levenshulme, Manchester",
        description="Food runs <b>every</b> week.\nAll welcome.",
        radius_km=Decimal("1.5"),
        languages=["en", "ur"],
        hotline_phone="+441614960000",
        contact_email="hello@levenshulme.example",
        retention_days=60,
        spending_limit_minor=7550,
        currency="GBP",
        members=2,
    )
    Group.objects.filter(pk=group.pk).update(join_needs_vouch=True)
    street = make_group(
        creator=area.created_by, name="Elm Road", kind=Group.Kind.STREET, parent=group
    )

    response = client.get(detail_url(group))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Levenshulme</h1>" in html
    assert "Food runs &lt;b&gt;every&lt;/b&gt; week.<br>All welcome." in html
    assert "Ward · Levenshulme, Manchester · 3 members" in html
    assert "Within 1.5 km of 53.45, -2.22" in html
    assert f'<a href="{detail_url(area)}">Manchester Mutual Aid</a> (area)' in html
    assert f'<a href="{detail_url(street)}">Elm Road</a> (street, 1 member)' in html
    assert "English, Urdu" in html
    assert '<a href="tel:+441614960000">+44 161 496 0000</a>' in html
    assert "mailto:hello@levenshulme.example" in html
    assert "deleted after 60 days" in html
    assert "Joining needs a vouch from one member." in html
    assert "Spending up to £75.50 needs no proposal" in html


@pytest.mark.parametrize("logged_in", [False, True], ids=["visitor", "non-member"])
def test_a_non_member_sees_no_member_list_and_no_roles(client, logged_in):
    group = make_group(members=1)
    names = [m.member.display_name for m in Membership.objects.filter(group=group)]
    if logged_in:
        client.force_login(UserFactory())

    response = client.get(detail_url(group))

    html = response.content.decode()
    for name in names:
        assert name not in html
    assert "Roles in force" not in html
    assert "Propose a role" not in html
    assert "Asking to join" not in html
    join_action = f'action="{reverse("groups:join", args=[group.slug])}"'
    assert ("Log in to join" in html, join_action in html) == (not logged_in, logged_in)


def test_a_member_sees_members_and_roles_without_personal_data(client):
    founder = UserFactory(display_name="Founder Fran")
    group = make_group(creator=founder)
    reader = member_of(group, display_name="Reader Rae", phone="+447700900123", address="1 Elm Rd")
    client.force_login(reader)

    response = client.get(detail_url(group))

    html = response.content.decode()
    assert "Founder Fran" in html
    assert "Reader Rae" in html
    assert reader.email not in html
    assert founder.email not in html
    assert "+447700900123" not in html
    assert "1 Elm Rd" not in html
    assert "Roles in force" in html
    assert "<h3>Steward: Founder Fran</h3>" in html
    assert "Started the group" in html


def test_the_founding_reason_is_shown_in_the_readers_language(client):
    # given: a group started by someone reading English
    group = make_group()
    client.force_login(group.created_by)

    # when: a member reads the page in Spanish
    response = client.get(detail_url(group), HTTP_ACCEPT_LANGUAGE="es")

    # then
    html = response.content.decode()
    assert "Creó el grupo" in html
    assert "Started the group" not in html


def test_the_roles_table_shows_who_proposed_and_who_confirmed(client):
    group = make_group()
    holder = member_of(group, display_name="Dispatcher Dee")
    grant = services.role_grant_propose(
        group=group,
        proposer=member_of(group, display_name="Proposer Pat"),
        holder=holder,
        role=Role.DISPATCHER,
        reason="Good on the phone",
        expires_at=timezone.now() + timedelta(days=10),
    )
    services.role_grant_confirm(
        grant=grant, confirmer=member_of(group, display_name="Confirmer Cy")
    )
    client.force_login(holder)

    html = client.get(detail_url(group)).content.decode()

    assert (
        '<h3>Dispatcher: Dispatcher Dee</h3>\n<dl class="facts">\n'
        f"<dt>Until</dt><dd>{grant.expires_at:%-d %b %Y}</dd>\n"
        "<dt>Reason</dt><dd>Good on the phone</dd>\n"
        "<dt>Proposed by</dt><dd>Proposer Pat</dd>\n"
        "<dt>Confirmed by</dt><dd>Confirmer Cy</dd>"
    ) in html
    assert reverse("groups:role_step_down", args=[group.slug, grant.pk]) in html


def test_an_unknown_group_is_not_found(client):
    assert client.get("/groups/no-such-group/").status_code == 404


def test_the_group_page_for_a_member_has_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    group = make_group(members=25, join_needs_vouch=False)
    member = member_of(group)
    for _ in range(3):
        confirmed_grant(group, member_of(group))
    services.role_grant_propose(
        group=group, proposer=member, holder=member_of(group), role=Role.TREASURER, reason="Books"
    )
    Group.objects.filter(pk=group.pk).update(join_needs_vouch=True)
    group.refresh_from_db()
    for _ in range(3):
        services.group_join(group=group, member=UserFactory())
    make_group(creator=group.created_by, parent=group, kind=Group.Kind.STREET)
    client.force_login(member)

    # session, user, group, children, is_member, can_edit, members, roles, awaiting, join requests
    with django_assert_num_queries(10):
        response = client.get(detail_url(group))

    assert response.status_code == 200
    assert response.content.decode().count("Vouch for ") == 3


# Joining and leaving


def test_joining_needs_a_login(client):
    group = make_group()

    response = client.post(reverse("groups:join", args=[group.slug]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert Membership.objects.filter(group=group).count() == 1


def test_joining_takes_a_post_only(client):
    group = make_group()
    client.force_login(UserFactory())

    assert client.get(reverse("groups:join", args=[group.slug])).status_code == 405


def test_joining_an_open_group(client):
    group = make_group(name="Open Hands")
    newcomer = UserFactory()
    client.force_login(newcomer)

    response = client.post(reverse("groups:join", args=[group.slug]))

    assert response.status_code == 302
    assert response.url == detail_url(group)
    assert permissions.is_member(newcomer, group) is True
    assert messages_of(response) == ["You are a member of Open Hands."]


def test_joining_twice_through_the_page_is_idempotent(client):
    group = make_group()
    newcomer = UserFactory()
    client.force_login(newcomer)

    client.post(reverse("groups:join", args=[group.slug]))
    client.post(reverse("groups:join", args=[group.slug]))

    assert Membership.objects.filter(group=group, member=newcomer).count() == 1


def test_asking_to_join_a_group_that_wants_a_vouch(client):
    group = make_group(join_needs_vouch=True)
    newcomer = UserFactory()
    client.force_login(newcomer)

    response = client.post(
        reverse("groups:join", args=[group.slug]), {"message": "I live on Elm Road"}
    )

    assert response.status_code == 302
    join_request = JoinRequest.objects.get(group=group)
    assert (join_request.applicant, join_request.message) == (newcomer, "I live on Elm Road")
    assert permissions.is_member(newcomer, group) is False
    page = client.get(detail_url(group)).content.decode()
    assert "A member will vouch for you soon." in page
    assert reverse("groups:join_request_withdraw", args=[group.slug, join_request.pk]) in page


def test_an_overlong_join_message_is_a_form_error(client):
    group = make_group(join_needs_vouch=True)
    client.force_login(UserFactory())

    response = client.post(reverse("groups:join", args=[group.slug]), {"message": "x" * 1001})

    assert response.status_code == 200
    assert "Ensure this value has at most 1000 characters" in response.content.decode()
    assert JoinRequest.objects.count() == 0


def test_withdrawing_a_request_to_join(client):
    group = make_group(join_needs_vouch=True)
    applicant = UserFactory()
    join_request = services.group_join(group=group, member=applicant)
    client.force_login(applicant)

    response = client.post(
        reverse("groups:join_request_withdraw", args=[group.slug, join_request.pk])
    )

    assert response.url == detail_url(group)
    assert messages_of(response) == ["You withdrew your request to join."]
    join_request.refresh_from_db()
    assert join_request.status == JoinRequest.Status.WITHDRAWN


@pytest.mark.parametrize("asked_before", [False, True], ids=["newcomer", "waiting applicant"])
def test_a_group_whose_members_all_left_lets_the_next_person_join_at_once(client, asked_before):
    # given: a group that wants a vouch, whose only member has left
    group = make_group(join_needs_vouch=True, name="Quiet Street")
    newcomer = UserFactory()
    if asked_before:
        services.group_join(group=group, member=newcomer)
    services.group_leave(group=group, member=group.created_by)
    client.force_login(newcomer)

    # when
    page = client.get(detail_url(group)).content.decode()
    response = client.post(reverse("groups:join", args=[group.slug]))

    # then: no vouch is asked for, since nobody could give one
    assert "Ask to join" not in page
    assert "A member will vouch for you soon." not in page
    assert 'name="message"' not in page
    assert ">Join this group</button>" in page
    assert messages_of(response) == ["You are a member of Quiet Street."]
    assert permissions.is_member(newcomer, group) is True


def test_someone_else_cannot_withdraw_a_request_to_join(client):
    group = make_group(join_needs_vouch=True)
    join_request = services.group_join(group=group, member=UserFactory())
    client.force_login(group.created_by)

    response = client.post(
        reverse("groups:join_request_withdraw", args=[group.slug, join_request.pk])
    )

    assert response.status_code == 403
    join_request.refresh_from_db()
    assert join_request.status == JoinRequest.Status.PENDING


def test_leaving_a_group(client):
    group = make_group(name="Open Hands")
    member = member_of(group)
    client.force_login(member)

    response = client.post(reverse("groups:leave", args=[group.slug]))

    assert response.url == detail_url(group)
    assert permissions.is_member(member, group) is False
    assert messages_of(response) == ["You left Open Hands."]


def test_leaving_a_group_one_is_not_in_shows_a_message(client):
    group = make_group()
    client.force_login(UserFactory())

    response = client.post(reverse("groups:leave", args=[group.slug]), follow=True)

    assert response.status_code == 200
    assert "You are not a member of this group." in response.content.decode()


# Vouching


def test_a_member_vouches_for_a_newcomer(client):
    group = make_group(join_needs_vouch=True)
    newcomer = UserFactory(display_name="New Nia")
    join_request = services.group_join(group=group, member=newcomer)
    client.force_login(group.created_by)

    page = client.get(detail_url(group)).content.decode()
    assert "Vouch for New Nia" in page
    response = client.post(reverse("groups:join_request_vouch", args=[group.slug, join_request.pk]))

    assert permissions.is_member(newcomer, group) is True
    assert messages_of(response) == ["You vouched for New Nia, who is now a member."]


def test_a_non_member_cannot_vouch(client):
    group = make_group(join_needs_vouch=True)
    newcomer = UserFactory()
    join_request = services.group_join(group=group, member=newcomer)
    client.force_login(UserFactory())

    response = client.post(reverse("groups:join_request_vouch", args=[group.slug, join_request.pk]))

    assert response.status_code == 403
    assert permissions.is_member(newcomer, group) is False


def test_vouching_for_a_request_already_answered_shows_a_message(client):
    group = make_group(join_needs_vouch=True)
    join_request = services.group_join(group=group, member=UserFactory())
    services.join_request_vouch(join_request=join_request, voucher=group.created_by)
    client.force_login(group.created_by)

    response = client.post(reverse("groups:join_request_vouch", args=[group.slug, join_request.pk]))

    assert response.url == detail_url(group)
    assert messages_of(response) == ["This request to join has already been answered."]


def test_a_join_request_of_another_group_is_not_found(client):
    group = make_group(join_needs_vouch=True)
    other = make_group(join_needs_vouch=True)
    join_request = services.group_join(group=other, member=UserFactory())
    client.force_login(group.created_by)

    response = client.post(reverse("groups:join_request_vouch", args=[group.slug, join_request.pk]))

    assert response.status_code == 404


# Roles


def test_a_member_proposes_a_role(client):
    group = make_group()
    proposer = member_of(group)
    holder = member_of(group, display_name="Tess")
    client.force_login(proposer)

    before = timezone.now()
    response = client.post(
        reverse("groups:role_propose", args=[group.slug]),
        {"holder": holder.pk, "role": Role.TREASURER, "reason": "Keeps good books", "days": 30},
    )

    assert response.status_code == 302
    grant = RoleGrant.objects.get(group=group, role=Role.TREASURER)
    assert (grant.holder, grant.proposed_by, grant.reason, grant.confirmed_at) == (
        holder,
        proposer,
        "Keeps good books",
        None,
    )
    assert before + timedelta(days=30) <= grant.expires_at <= timezone.now() + timedelta(days=30)
    assert messages_of(response) == [
        "You proposed Tess as treasurer. Another member needs to confirm it before it is in force."
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"days": 0}, "Ensure this value is greater than or equal to 1."),
        ({"days": 366}, "Ensure this value is less than or equal to 365."),
        ({"reason": ""}, "This field is required."),
        ({"role": "king"}, "Select a valid choice. king is not one of the available choices."),
    ],
)
def test_a_bad_proposal_is_a_form_error(client, data, error):
    group = make_group()
    proposer = member_of(group)
    client.force_login(proposer)

    response = client.post(
        reverse("groups:role_propose", args=[group.slug]),
        {"holder": proposer.pk, "role": Role.TREASURER, "reason": "Books", "days": 30, **data},
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert RoleGrant.objects.filter(role=Role.TREASURER).count() == 0


def test_a_role_cannot_be_proposed_for_a_non_member(client):
    group = make_group()
    outsider = UserFactory()
    client.force_login(member_of(group))

    response = client.post(
        reverse("groups:role_propose", args=[group.slug]),
        {"holder": outsider.pk, "role": Role.TREASURER, "reason": "Books", "days": 30},
    )

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert RoleGrant.objects.filter(holder=outsider).count() == 0


def test_the_proposal_page_lists_every_member_as_a_possible_holder(client):
    group = make_group(members=3)
    proposer = member_of(group)
    holder = member_of(group, display_name="Tess")
    client.force_login(proposer)

    response = client.get(reverse("groups:role_propose", args=[group.slug]), {"holder": holder.pk})

    assert response.status_code == 200
    holder_field = response.context["propose_form"]["holder"]
    assert len(holder_field.field.choices) == 1 + group.memberships.count()
    assert str(holder_field.value()) == str(holder.pk)
    assert f'<option value="{holder.pk}" selected>Tess</option>' in response.content.decode()


def test_the_proposal_page_has_a_fixed_number_of_queries(client, django_assert_num_queries):
    group = make_group(members=30)
    client.force_login(group.created_by)

    # session, user, group, is_member, members
    with django_assert_num_queries(5):
        response = client.get(reverse("groups:role_propose", args=[group.slug]))

    assert len(response.context["propose_form"]["holder"].field.choices) == 1 + 31


def test_a_non_member_cannot_open_the_proposal_page(client):
    group = make_group()
    client.force_login(UserFactory())

    response = client.get(reverse("groups:role_propose", args=[group.slug]))

    assert response.status_code == 403


def test_a_non_member_cannot_propose_a_role(client):
    group = make_group()
    holder = member_of(group)
    client.force_login(UserFactory())

    response = client.post(
        reverse("groups:role_propose", args=[group.slug]),
        {"holder": holder.pk, "role": Role.TREASURER, "reason": "Books", "days": 30},
    )

    assert response.status_code == 403
    assert RoleGrant.objects.filter(holder=holder).count() == 0


def test_a_third_member_confirms_a_role(client):
    group = make_group()
    proposer, holder, confirmer = member_of(group), member_of(group), member_of(group)
    grant = services.role_grant_propose(
        group=group, proposer=proposer, holder=holder, role=Role.DISPATCHER, reason="Phones"
    )
    client.force_login(confirmer)

    page = client.get(detail_url(group)).content.decode()
    assert reverse("groups:role_confirm", args=[group.slug, grant.pk]) in page
    response = client.post(reverse("groups:role_confirm", args=[group.slug, grant.pk]))

    assert permissions.holds_role(holder, group, Role.DISPATCHER) is True
    assert messages_of(response) == [f"You confirmed {holder.public_name} as dispatcher."]


@pytest.mark.parametrize("who", ["proposer", "holder"])
def test_the_proposer_and_the_holder_cannot_confirm(client, who):
    group = make_group()
    people = {"proposer": member_of(group), "holder": member_of(group)}
    grant = services.role_grant_propose(
        group=group,
        proposer=people["proposer"],
        holder=people["holder"],
        role=Role.DISPATCHER,
        reason="Phones",
    )
    client.force_login(people[who])

    page = client.get(detail_url(group)).content.decode()
    response = client.post(reverse("groups:role_confirm", args=[group.slug, grant.pk]))

    assert reverse("groups:role_confirm", args=[group.slug, grant.pk]) not in page
    assert response.status_code == 403
    assert permissions.holds_role(people["holder"], group, Role.DISPATCHER) is False


def test_confirming_needs_a_login(client):
    group = make_group()
    grant = services.role_grant_propose(
        group=group,
        proposer=member_of(group),
        holder=member_of(group),
        role=Role.DISPATCHER,
        reason="Phones",
    )

    response = client.post(reverse("groups:role_confirm", args=[group.slug, grant.pk]))

    assert response.url.startswith(reverse("account_login"))
    grant.refresh_from_db()
    assert grant.confirmed_at is None


def test_a_holder_steps_down(client):
    group = make_group()
    holder = member_of(group)
    grant = confirmed_grant(group, holder)
    client.force_login(holder)

    response = client.post(reverse("groups:role_step_down", args=[group.slug, grant.pk]))

    assert permissions.holds_role(holder, group, Role.DISPATCHER) is False
    assert messages_of(response) == ["You stepped down as dispatcher."]


@pytest.mark.parametrize("who", ["another member", "its proposer"])
def test_only_the_holder_can_give_back_a_confirmed_role(client, who):
    group = make_group()
    holder = member_of(group)
    grant = confirmed_grant(group, holder)
    client.force_login(grant.proposed_by if who == "its proposer" else member_of(group))

    response = client.post(reverse("groups:role_step_down", args=[group.slug, grant.pk]))

    assert response.status_code == 403
    assert permissions.holds_role(holder, group, Role.DISPATCHER) is True


def test_a_proposer_withdraws_an_unconfirmed_proposal(client):
    group = make_group()
    proposer, holder = member_of(group), member_of(group)
    grant = services.role_grant_propose(
        group=group, proposer=proposer, holder=holder, role=Role.DISPATCHER, reason="Phones"
    )
    client.force_login(proposer)

    page = client.get(detail_url(group)).content.decode()
    response = client.post(reverse("groups:role_step_down", args=[group.slug, grant.pk]))

    assert ">Withdraw</button>" in page
    assert messages_of(response) == ["The proposed role is withdrawn."]
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert RoleGrant.objects.awaiting_confirmation().filter(group=group).count() == 0


def test_the_holder_can_decline_a_proposed_role(client):
    group = make_group()
    holder = member_of(group)
    grant = services.role_grant_propose(
        group=group, proposer=member_of(group), holder=holder, role=Role.DISPATCHER, reason="x"
    )
    client.force_login(holder)

    page = client.get(detail_url(group)).content.decode()
    client.post(reverse("groups:role_step_down", args=[group.slug, grant.pk]))

    assert ">Decline</button>" in page
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_an_expired_role_is_not_listed_as_in_force(client):
    group = make_group()
    holder = member_of(group, display_name="Past Pip")
    grant = confirmed_grant(group, holder)
    now = timezone.now()
    RoleGrant.objects.filter(pk=grant.pk).update(
        granted_at=now - timedelta(days=100), expires_at=now - timedelta(days=1)
    )
    client.force_login(holder)

    html = client.get(detail_url(group)).content.decode()

    assert "Dispatcher: Past Pip" not in html
    assert permissions.holds_role(holder, group, Role.DISPATCHER) is False


# The member list


def test_the_member_list_shows_names_and_join_dates_only(client):
    group = make_group()
    member = member_of(group, display_name="Quiet Quinn", phone="+447700900123")
    client.force_login(member)

    response = client.get(reverse("groups:members", args=[group.slug]))

    html = response.content.decode()
    membership = Membership.objects.get(member=member)
    assert f"<tr><td>Quiet Quinn</td><td>{membership.joined_at:%-d %b %Y}</td></tr>" in html
    assert member.email not in html
    assert "+447700900123" not in html


def test_a_non_member_cannot_see_the_member_list(client):
    group = make_group()
    client.force_login(UserFactory())

    assert client.get(reverse("groups:members", args=[group.slug])).status_code == 403


def test_a_visitor_is_sent_to_log_in_for_the_member_list(client):
    group = make_group()

    response = client.get(reverse("groups:members", args=[group.slug]))

    assert response.url.startswith(reverse("account_login"))


def test_the_group_page_links_to_the_full_list_past_twenty_members(client):
    group = make_group(members=20)
    client.force_login(group.created_by)

    html = client.get(detail_url(group)).content.decode()

    assert html.count("<li>Neighbour ") == 20
    assert "See all 21 members" in html


def test_the_member_list_has_a_fixed_number_of_queries(client, django_assert_num_queries):
    group = make_group(members=30)
    client.force_login(group.created_by)

    # session, user, group, is_member, count, page
    with django_assert_num_queries(6):
        response = client.get(reverse("groups:members", args=[group.slug]))

    assert response.content.decode().count("<tr><td>") == 31


def test_the_group_page_for_a_visitor_has_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    group = make_group(members=10)
    make_group(creator=group.created_by, parent=group, kind=Group.Kind.STREET)

    # group, children
    with django_assert_num_queries(2):
        response = client.get(detail_url(group))

    assert response.status_code == 200
