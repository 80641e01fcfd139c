import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from mutualaid.common.errors import ApplicationError
from mutualaid.groups.models import Role
from mutualaid.needs import services
from mutualaid.needs.models import GroupCategory, Offer, Request
from mutualaid.needs.tests.factories import (
    claimed_request,
    dispatcher_of,
    make_group,
    make_offer,
    make_request,
    member_of,
)
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


# offer_create


def test_a_member_offers_goods_with_a_quantity():
    # given
    group = make_group()
    member = member_of(group)
    until = timezone.localdate() + timedelta(days=30)
    # when
    offer = services.offer_create(
        group=group,
        member=member,
        kind=Offer.Kind.GOODS,
        category="food",
        title=" Batch-cooked dal ",
        description="Six portions every Sunday",
        area_name="Longsight",
        availability="Sundays",
        quantity=6,
        available_until=until,
    )
    # then
    offer.refresh_from_db()
    assert (
        offer.group,
        offer.member,
        offer.kind,
        offer.category,
        offer.title,
        offer.description,
        offer.area_name,
        offer.availability,
        offer.quantity,
        offer.available_until,
        offer.status,
    ) == (
        group,
        member,
        "goods",
        "food",
        "Batch-cooked dal",
        "Six portions every Sunday",
        "Longsight",
        "Sundays",
        6,
        until,
        "active",
    )


def test_time_and_skills_need_no_quantity_or_end_date():
    group = make_group()

    offer = make_offer(group, kind=Offer.Kind.SKILL, category="repairs", title="Bike repairs")

    assert (offer.quantity, offer.available_until) == (None, None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "money"}, "Please choose what you offer: time, a skill or goods."),
        ({"category": "gardening"}, "Please choose what kind of help from the list."),
        ({"title": "  "}, "Please give your offer a title."),
        ({"title": "x" * 121}, "A title can be at most 120 characters."),
        ({"description": "x" * 2001}, "Details can be at most 2000 characters."),
        ({"area_name": "x" * 101}, "An area name can be at most 100 characters."),
        ({"availability": "x" * 201}, "When you are available can be at most 200 characters."),
        (
            {"title": "<script>"},
            "Please use plain text: the characters < and > are not allowed.",
        ),
        ({"kind": "goods"}, "Please say how many you can give."),
        ({"kind": "goods", "quantity": 0}, "Please say how many you can give."),
        ({"kind": "goods", "quantity": 100_001}, "You can offer at most 100000 at once."),
        ({"kind": "time", "quantity": 2}, "Only goods have a quantity."),
        ({"kind": "skill", "quantity": 1}, "Only goods have a quantity."),
        (
            {"available_until": "yesterday"},
            "The last day of an offer cannot be in the past.",
        ),
    ],
)
def test_malformed_offers_are_refused(fields, message):
    group = make_group()
    if fields.get("available_until") == "yesterday":
        fields["available_until"] = timezone.localdate() - timedelta(days=1)

    with pytest.raises(ApplicationError, match=exactly(message)):
        make_offer(group, **fields)
    assert Offer.objects.count() == 0


def test_an_offer_may_last_until_today():
    group = make_group()

    offer = make_offer(group, available_until=timezone.localdate())

    assert offer.available_until == timezone.localdate()


@pytest.mark.parametrize("who", ["outsider", "member of another group"])
def test_only_members_offer(who):
    group = make_group()
    member = UserFactory() if who == "outsider" else member_of(make_group())

    with pytest.raises(
        PermissionDenied, match=exactly("Only members of this group can make an offer.")
    ):
        make_offer(group, member=member)


def test_an_offer_in_the_groups_own_category():
    group = make_group()
    services.group_category_add(group=group, name="Uniform swap", actor=group.created_by)

    offer = make_offer(group, category="uniform-swap")

    assert offer.category == "uniform-swap"


# offer_withdraw


def test_the_member_who_offered_withdraws_it_and_twice_changes_nothing():
    group = make_group()
    offer = make_offer(group)

    services.offer_withdraw(offer=offer, member=offer.member)
    services.offer_withdraw(offer=offer, member=offer.member)

    offer.refresh_from_db()
    assert offer.status == "withdrawn"


@pytest.mark.parametrize("who", ["member", "dispatcher"])
def test_nobody_else_withdraws_an_offer(who):
    group = make_group()
    offer = make_offer(group)
    actor = member_of(group) if who == "member" else dispatcher_of(group)

    with pytest.raises(
        PermissionDenied, match=exactly("Only the member who made an offer can withdraw it.")
    ):
        services.offer_withdraw(offer=offer, member=actor)
    offer.refresh_from_db()
    assert offer.status == "active"


# request_link_offer


def test_the_holder_links_the_offer_that_fulfils_the_request():
    group = make_group()
    request, holder = claimed_request(group)
    offer = make_offer(group)

    services.request_link_offer(request=request, offer=offer, actor=holder)

    request.refresh_from_db()
    offer.refresh_from_db()
    assert (request.offer, offer.status) == (offer, "active")


def test_linking_goods_counts_them_down_until_all_are_given():
    # given: two goods offered, and three requests
    group = make_group()
    dispatcher = dispatcher_of(group)
    offer = make_offer(group, kind=Offer.Kind.GOODS, quantity=2)
    first, second, third = (make_request(group) for _ in range(3))
    # when
    services.request_link_offer(request=first, offer=offer, actor=dispatcher)
    services.request_link_offer(request=first, offer=offer, actor=dispatcher)
    services.request_link_offer(request=second, offer=offer, actor=dispatcher)
    # then
    offer.refresh_from_db()
    assert (offer.quantity, offer.status) == (0, "used_up")
    with pytest.raises(ApplicationError, match=exactly("This offer is no longer available.")):
        services.request_link_offer(request=third, offer=offer, actor=dispatcher)
    assert Request.objects.filter(offer=offer).count() == 2


def test_a_withdrawn_offer_cannot_be_linked():
    group = make_group()
    request, holder = claimed_request(group)
    offer = make_offer(group)
    services.offer_withdraw(offer=offer, member=offer.member)

    with pytest.raises(ApplicationError, match=exactly("This offer is no longer available.")):
        services.request_link_offer(request=request, offer=offer, actor=holder)


@pytest.mark.parametrize("who", ["member", "offerer", "other group's offer"])
def test_only_the_holder_or_a_dispatcher_links_an_offer_of_the_same_group(who):
    group = make_group()
    request, holder = claimed_request(group)
    offer = make_offer(group)
    actor = {"member": member_of(group), "offerer": offer.member, "other group's offer": holder}[
        who
    ]
    if who == "other group's offer":
        offer = make_offer(make_group())

    with pytest.raises(
        PermissionDenied,
        match=exactly("Only the member holding this request or a dispatcher can link an offer."),
    ):
        services.request_link_offer(request=request, offer=offer, actor=actor)


def test_a_cancelled_request_takes_no_offer():
    group = make_group()
    request = make_request(group)
    services.request_cancel(request=request, secret=request.secret)

    with pytest.raises(ApplicationError, match=exactly("This request is closed.")):
        services.request_link_offer(
            request=request, offer=make_offer(group), actor=dispatcher_of(group)
        )


# group_category_add


def test_a_steward_adds_a_category_with_a_code_from_its_name():
    group = make_group()

    category = services.group_category_add(
        group=group, name="  School   uniform swap ", actor=group.created_by
    )

    assert (category.group, category.code, category.name) == (
        group,
        "school-uniform-swap",
        "School uniform swap",
    )


def test_a_dispatcher_adds_a_category():
    group = make_group()

    category = services.group_category_add(
        group=group, name="Baby clothes", actor=dispatcher_of(group)
    )

    assert category.code == "baby-clothes"


def test_names_in_any_script_get_a_code():
    group = make_group()

    category = services.group_category_add(group=group, name="Ayuda café", actor=group.created_by)

    assert category.code == "ayuda-café"


@pytest.mark.parametrize(
    "name", ["Uniform swap", "UNIFORM SWAP", "uniform-swap", "Shopping", "dog walking", "Other"]
)
def test_a_category_already_on_the_list_is_refused(name):
    group = make_group()
    services.group_category_add(group=group, name="Uniform swap", actor=group.created_by)

    with pytest.raises(
        ApplicationError, match=exactly("That kind of help is already on the list.")
    ):
        services.group_category_add(group=group, name=name, actor=group.created_by)
    assert GroupCategory.objects.filter(group=group).count() == 1


def test_the_same_category_in_two_groups_is_fine():
    first, second = make_group(), make_group()

    for group in (first, second):
        services.group_category_add(group=group, name="Uniform swap", actor=group.created_by)

    assert GroupCategory.objects.filter(code="uniform-swap").count() == 2


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("  ", "Please name the kind of help."),
        ("x" * 61, "A name can be at most 60 characters."),
        ("!!!", "Please use letters or numbers in the name."),
        ("<b>", "Please use plain text: the characters < and > are not allowed."),
    ],
)
def test_a_category_needs_a_plain_name(name, message):
    group = make_group()

    with pytest.raises(ApplicationError, match=exactly(message)):
        services.group_category_add(group=group, name=name, actor=group.created_by)


@pytest.mark.parametrize("who", ["member", "treasurer", "other group's steward"])
def test_only_a_dispatcher_or_steward_adds_categories(who):
    from mutualaid.groups import services as group_services

    group = make_group()
    if who == "member":
        actor = member_of(group)
    elif who == "treasurer":
        actor = member_of(group)
        grant = group_services.role_grant_propose(
            group=group, proposer=member_of(group), holder=actor, role=Role.TREASURER, reason="x"
        )
        group_services.role_grant_confirm(grant=grant, confirmer=member_of(group))
    else:
        actor = make_group().created_by

    with pytest.raises(
        PermissionDenied,
        match=exactly("Only a dispatcher or a steward of this group can add a kind of help."),
    ):
        services.group_category_add(group=group, name="Uniform swap", actor=actor)
