"""The offers pages: members list, make and withdraw offers of time, skills and goods."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.groups.models import Group, RoleGrant
from mutualaid.needs.models import Offer
from mutualaid.needs.tests.factories import dispatcher_of, make_group, make_offer, member_of
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def list_url(group: Group) -> str:
    return reverse("needs:offer_list", kwargs={"slug": group.slug})


def create_url(group: Group) -> str:
    return reverse("needs:offer_create", kwargs={"slug": group.slug})


def withdraw_url(offer: Offer) -> str:
    return reverse("needs:offer_withdraw", kwargs={"pk": offer.pk})


def user_for(role: str, group: Group) -> User | None:
    if role == "anonymous":
        return None
    if role == "outsider":
        return UserFactory()
    if role == "member":
        return member_of(group)
    dispatcher = dispatcher_of(group)
    if role == "expired_dispatcher":
        RoleGrant.objects.filter(holder=dispatcher).update(
            granted_at=timezone.now() - timedelta(days=10),
            expires_at=timezone.now() - timedelta(seconds=1),
        )
    return dispatcher


ROLES_AND_STATUS = [
    ("anonymous", 302),
    ("outsider", 403),
    ("member", 200),
    ("dispatcher", 200),
    ("expired_dispatcher", 200),
]


@pytest.mark.parametrize(("role", "status"), ROLES_AND_STATUS)
@pytest.mark.parametrize("page", ["list", "create"])
def test_the_offer_pages_are_for_members(client: Client, db: None, role, status, page):
    group = make_group()
    make_offer(group, title="Lifts to the hospital")
    user = user_for(role, group)
    if user is not None:
        client.force_login(user)

    response = client.get(list_url(group) if page == "list" else create_url(group))

    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("account_login"))
    if status == 200 and page == "list":
        assert "Lifts to the hospital" in response.content.decode()


def test_the_list_shows_current_offers_and_mine_with_a_withdraw_button(client, db):
    # given
    group = make_group()
    me = member_of(group, display_name="Rosa")
    other = member_of(group, display_name="Sam")
    until = timezone.localdate() + timedelta(days=10)
    mine = make_offer(group, me, title="Cargo bike deliveries", availability="Weekday evenings")
    theirs = make_offer(
        group,
        other,
        kind=Offer.Kind.GOODS,
        category="food",
        title="Tins of soup",
        quantity=12,
        area_name="Longsight",
        available_until=until,
    )
    withdrawn = make_offer(group, me, title="Old offer")
    withdrawn.status = Offer.Status.WITHDRAWN
    withdrawn.save()
    Offer.objects.create(
        group=group,
        member=other,
        kind=Offer.Kind.TIME,
        category="shopping",
        title="Past its day",
        available_until=timezone.localdate() - timedelta(days=1),
    )
    client.force_login(me)

    # when
    response = client.get(list_url(group))

    # then
    assert [o.pk for o in response.context["offers"]] == [theirs.pk, mine.pk]
    assert [o.pk for o in response.context["mine"]] == [mine.pk]
    html = response.content.decode()
    assert "Old offer" not in html
    assert "Past its day" not in html
    assert (
        "<h3>Tins of soup</h3>\n\n"
        '<dl class="facts">\n'
        "<dt>What</dt><dd>Goods · food or a meal</dd>\n"
        "<dt>Where</dt><dd>Longsight</dd>\n"
        "\n"
        "<dt>How many</dt><dd>12</dd>\n"
        f'<dt>Until</dt><dd><time datetime="{until:%Y-%m-%d}">{until:%-d %b %Y}</time></dd>\n'
        "<dt>From</dt><dd>Sam</dd>"
    ) in html
    assert "<dt>When</dt><dd>Weekday evenings</dd>" in html
    assert html.count('action="/offers/') == 1
    assert f'action="{withdraw_url(mine)}"' in html


def test_a_member_offers_goods(client, db):
    group = make_group()
    member = member_of(group)
    client.force_login(member)
    until = timezone.localdate() + timedelta(days=30)

    response = client.post(
        create_url(group),
        {
            "kind": "goods",
            "category": "food",
            "title": "Tins of soup",
            "description": "Tomato and lentil",
            "area_name": "Longsight",
            "availability": "Saturdays",
            "quantity": "12",
            "available_until": until.isoformat(),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == list_url(group)
    offer = Offer.objects.get()
    assert (offer.group, offer.member, offer.kind, offer.category) == (
        group,
        member,
        "goods",
        "food",
    )
    assert (offer.title, offer.description, offer.area_name, offer.availability) == (
        "Tins of soup",
        "Tomato and lentil",
        "Longsight",
        "Saturdays",
    )
    assert (offer.quantity, offer.available_until) == (12, until)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Thank you. “Tins of soup” is on the group's list of offers."
    ]


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"kind": "time", "quantity": "3"}, "quantity", "Only goods have a quantity."),
        ({"kind": "goods"}, "quantity", "Please say how many you can give."),
        ({"kind": "goods", "quantity": "0"}, "quantity", "greater than or equal to 1."),
        ({"kind": "goods", "quantity": "9" * 30}, "quantity", "less than or equal to 100000."),
        ({"kind": "plenty"}, "kind", "Select a valid choice."),
        ({"category": "<script>"}, "category", "Select a valid choice."),
        ({"title": " "}, "title", "This field is required."),
        ({"title": "x" * 121}, "title", "at most 120 characters"),
        ({"available_until": "2001-01-01"}, "available_until", "Choose today or a later date."),
        ({"available_until": "not a date"}, "available_until", "Enter a valid date."),
    ],
)
def test_a_bad_offer_is_a_form_error(client, db, data, field, error):
    group = make_group()
    client.force_login(member_of(group))
    filled = {"kind": "time", "category": "shopping", "title": "Lifts", **data}

    response = client.post(create_url(group), filled)

    assert response.status_code == 200
    assert error in str(response.context["form"].errors[field])
    assert Offer.objects.count() == 0


def test_markup_in_an_offer_is_refused_by_the_rules_and_shown_escaped(client, db):
    group = make_group()
    client.force_login(member_of(group))

    response = client.post(
        create_url(group),
        {"kind": "time", "category": "shopping", "title": "<script>alert(1)</script>"},
    )

    html = response.content.decode()
    assert "Please use plain text: the characters &lt; and &gt; are not allowed." in html
    assert "<script>alert(1)</script>" not in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert Offer.objects.count() == 0


def test_a_description_with_markup_is_shown_escaped(client, db):
    group = make_group()
    member = member_of(group)
    make_offer(group, member, description="<img src=x onerror=alert(1)>\nSecond line")
    client.force_login(member)

    html = client.get(list_url(group)).content.decode()

    assert "&lt;img src=x onerror=alert(1)&gt;<br>Second line" in html
    assert "<img src=x" not in html


def test_the_owner_withdraws_an_offer(client, db):
    group = make_group()
    member = member_of(group)
    offer = make_offer(group, member, title="Cargo bike deliveries")
    client.force_login(member)

    response = client.post(withdraw_url(offer))

    assert response["Location"] == list_url(group)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN
    assert client.get(list_url(group)).context["offers"] == []


@pytest.mark.parametrize("role", ["anonymous", "outsider", "member", "dispatcher"])
def test_only_the_owner_can_withdraw(client, db, role):
    group = make_group()
    offer = make_offer(group)
    user = user_for(role, group)
    if user is not None:
        client.force_login(user)

    response = client.post(withdraw_url(offer))

    assert response.status_code == (302 if role == "anonymous" else 403)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACTIVE


def test_withdrawing_needs_a_post(client, db):
    group = make_group()
    member = member_of(group)
    offer = make_offer(group, member)
    client.force_login(member)

    assert client.get(withdraw_url(offer)).status_code == 405
    assert client.post("/offers/999999/withdraw/").status_code == 404


def test_the_offer_list_has_a_fixed_number_of_queries(client, db, django_assert_num_queries):
    group = make_group()
    member = member_of(group)
    for n in range(20):
        make_offer(group, member if n % 4 == 0 else None, title=f"Offer {n}")
    client.force_login(member)

    # session, user, group, membership, offers with their members, group's categories
    with django_assert_num_queries(6):
        response = client.get(list_url(group))

    assert len(response.context["offers"]) == 20
    assert len(response.context["mine"]) == 5
