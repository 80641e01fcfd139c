"""Supply and demand per area and kind of help: the numbers on a built scenario, who may see
the page, that it names nobody, and how many queries it costs."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.dispatch import volunteers
from mutualaid.dispatch.supply import SupplyRow, supply_and_demand
from mutualaid.groups.models import Group, RoleGrant
from mutualaid.needs import services
from mutualaid.needs.models import GroupCategory, Request
from mutualaid.needs.tests.factories import dispatcher_of, make_group, make_request, member_of
from mutualaid.people.models import Skill, User
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}

CENTRE = (Decimal("53.45"), Decimal("-2.22"))
# About 2.3 km east and south of the centre.
LEVENSHULME = (Decimal("53.44"), Decimal("-2.19"))
# About 17 km north of the centre: nobody lives near it.
FAR_NORTH = (Decimal("53.60"), Decimal("-2.22"))


def supply_url(group: Group) -> str:
    return reverse("dispatch:supply_and_demand", kwargs={"slug": group.slug})


def homeless(**fields) -> User:
    """A member who gave no rough home, so matching never counts them."""
    return UserFactory(home_latitude=None, home_longitude=None, **fields)


def lives_at(group: Group, point: tuple[Decimal, Decimal], **fields) -> User:
    return member_of(group, home_latitude=point[0], home_longitude=point[1], **fields)


@dataclass
class World:
    group: Group
    levenshulme: Group
    north: Group
    driver: User
    walker: User
    busy: User
    requester_names: list[str]


@pytest.fixture
def world() -> World:
    """A group with two wards and three members who could help:

    - a driver living in Levenshulme, 3 km travel, with the Driving skill;
    - a walker living at the centre, 3 km travel, no skill;
    - a busy member at the centre who holds as many requests as they take (one).

    Requests of the last seven days: in Levenshulme three shopping still open, one shopping
    claimed by the busy member and one ride open; at the centre (no area) one prescription
    open and one food request cancelled; in the far north ward one shopping open. Eight days
    ago, a shopping request at the centre, which is not counted."""
    founder = homeless()
    group = make_group(
        creator=founder,
        name="Southside Mutual Aid",
        centre_latitude=CENTRE[0],
        centre_longitude=CENTRE[1],
    )
    levenshulme = make_group(
        creator=founder,
        parent=group,
        kind=Group.Kind.WARD,
        name="Levenshulme",
        centre_latitude=LEVENSHULME[0],
        centre_longitude=LEVENSHULME[1],
    )
    north = make_group(
        creator=founder,
        parent=group,
        kind=Group.Kind.WARD,
        name="Blackley",
        centre_latitude=FAR_NORTH[0],
        centre_longitude=FAR_NORTH[1],
    )
    driver = lives_at(group, LEVENSHULME, display_name="Dara Driver", travel_km=3)
    driver.skills.add(Skill.objects.get_or_create(name="Driving", group=None)[0])
    walker = lives_at(group, CENTRE, display_name="Wren Walker", travel_km=3)
    busy = lives_at(group, CENTRE, display_name="Bea Busy", travel_km=3, max_open_tasks=1)
    names = []

    def ask(category: str, area: Group | None = None, **fields) -> Request:
        request = make_request(group, category=category, area_group=area, **fields)
        names.append(request.name)
        return request

    for _ in range(3):
        ask("shopping", levenshulme)
    services.request_claim(request=ask("shopping", levenshulme), member=busy)
    ask("ride", levenshulme)
    ask("prescription")
    food = ask("food")
    services.request_cancel(request=food, secret=food.secret)
    ask("shopping", north)
    ask("shopping", now=timezone.now() - timedelta(days=8))
    return World(
        group=group,
        levenshulme=levenshulme,
        north=north,
        driver=driver,
        walker=walker,
        busy=busy,
        requester_names=names,
    )


def rows_by_place(rows: list[SupplyRow]) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(area name, category) -> (open, made, volunteers), for rows with anything in them."""
    return {
        (row.area.name, row.category): (row.open_requests, row.requests, row.volunteers)
        for row in rows
        if row.requests or row.volunteers
    }


def test_the_numbers_per_area_and_kind_of_help(world):
    rows = supply_and_demand(group=world.group)

    # Every area (the group first, then its wards by name) with every kind of help it knows.
    kinds = len(rows) // 3
    assert [row.area.name for row in rows[::kinds]] == [
        "Southside Mutual Aid",
        "Blackley",
        "Levenshulme",
    ]
    assert len(rows) == 3 * kinds
    assert rows_by_place(rows) == {
        # Anyone can shop, fetch a prescription or cook: the driver (2.3 km away) and the
        # walker; the busy member holds all they take.
        ("Southside Mutual Aid", "shopping"): (0, 0, 2),
        ("Southside Mutual Aid", "prescription"): (1, 1, 2),
        ("Southside Mutual Aid", "food"): (0, 1, 2),
        ("Southside Mutual Aid", "household"): (0, 0, 2),
        ("Southside Mutual Aid", "money"): (0, 0, 2),
        ("Southside Mutual Aid", "housing"): (0, 0, 2),
        ("Southside Mutual Aid", "other"): (0, 0, 2),
        ("Southside Mutual Aid", "ride"): (0, 0, 1),
        ("Blackley", "shopping"): (1, 1, 0),
        ("Levenshulme", "shopping"): (3, 4, 2),
        ("Levenshulme", "prescription"): (0, 0, 2),
        ("Levenshulme", "food"): (0, 0, 2),
        ("Levenshulme", "household"): (0, 0, 2),
        ("Levenshulme", "money"): (0, 0, 2),
        ("Levenshulme", "housing"): (0, 0, 2),
        ("Levenshulme", "other"): (0, 0, 2),
        ("Levenshulme", "ride"): (1, 1, 1),
    }


def test_help_missing_and_volunteers_idle(world):
    rows = {(row.area.name, row.category): row for row in supply_and_demand(group=world.group)}

    assert sorted(place for place, row in rows.items() if row.help_missing) == [
        ("Blackley", "shopping"),
        ("Levenshulme", "shopping"),
    ]
    # One waiting ride and one driver: enough.
    assert not rows[("Levenshulme", "ride")].help_missing
    assert not rows[("Levenshulme", "ride")].volunteers_idle
    # A cancelled request waits for nobody: the cooks there are free.
    assert rows[("Southside Mutual Aid", "food")].volunteers_idle
    assert not rows[("Southside Mutual Aid", "prescription")].volunteers_idle
    # Nobody near and nothing asked: neither.
    assert not rows[("Blackley", "food")].help_missing
    assert not rows[("Blackley", "food")].volunteers_idle


def test_a_groups_own_category_is_counted_under_its_name(world):
    GroupCategory.objects.create(group=world.group, code="uniforms", name="School uniform swap")
    make_request(world.group, category="uniforms", area_group=world.levenshulme)

    rows = {(row.area.name, row.category): row for row in supply_and_demand(group=world.group)}

    row = rows[("Levenshulme", "uniforms")]
    assert (row.category_label, row.open_requests, row.requests, row.volunteers) == (
        "School uniform swap",
        1,
        1,
        2,
    )


def test_the_selector_costs_a_fixed_number_of_queries(world, django_assert_num_queries):
    for _ in range(20):
        make_request(world.group, category="ride", area_group=world.north)
    volunteers.forget_all()

    # requests, areas, the group's categories; the index built: changes, skills, members, their
    # skills
    with django_assert_num_queries(7):
        supply_and_demand(group=world.group)
    # With the index already built, only the changes since are read.
    with django_assert_num_queries(4):
        supply_and_demand(group=world.group)


# The page


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("outsider", 403),
        ("ward_member_only", 403),
        ("member", 200),
        ("dispatcher", 200),
        ("expired_dispatcher", 200),
    ],
)
def test_the_page_is_for_members_of_the_group(client: Client, world, role, status):
    users = {
        "anonymous": None,
        "outsider": UserFactory(),
        "ward_member_only": member_of(world.levenshulme),
        "member": member_of(world.group),
        "dispatcher": dispatcher_of(world.group),
        "expired_dispatcher": dispatcher_of(world.group),
    }
    RoleGrant.objects.filter(holder=users["expired_dispatcher"]).update(
        granted_at=timezone.now() - timedelta(days=10),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    if users[role] is not None:
        client.force_login(users[role])

    response = client.get(supply_url(world.group))

    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("account_login"))


def test_the_page_tells_where_help_is_missing_and_names_nobody(client, world):
    client.force_login(world.walker)

    response = client.get(supply_url(world.group))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Where help is needed in Southside Mutual Aid</h1>" in html
    assert (
        f'<li><strong>Shopping</strong> in <a href="#area-{world.north.pk}">Blackley</a>: '
        "1 waiting, 0 could help.</li>"
    ) in html
    assert (
        f'<li><strong>Shopping</strong> in <a href="#area-{world.levenshulme.pk}">Levenshulme'
        "</a>: 3 waiting, 2 could help.</li>"
    ) in html
    assert html.count("<strong>Help missing here</strong>") == 2
    assert "<li>Food or a meal: 2 members</li>" in html
    # Counts only: no member and no requester is named.
    for name in ["Dara Driver", "Wren Walker", "Bea Busy", *world.requester_names]:
        assert name not in html
    levenshulme = response.context["areas"][2]
    assert levenshulme.area == world.levenshulme
    assert [
        (row.category, row.open_requests, row.requests, row.volunteers) for row in levenshulme.asked
    ] == [
        ("shopping", 3, 4, 2),
        ("ride", 1, 1, 1),
    ]


def test_a_quiet_group_says_so(client, db):
    group = make_group(creator=homeless())
    member = member_of(group, home_latitude=None, home_longitude=None)
    client.force_login(member)

    response = client.get(supply_url(group))

    html = response.content.decode()
    assert "No request is waiting without enough members to take it." in html
    assert "Nobody asked for help here in the last 7 days." in html
    assert "No member could take a request here now." in html


def test_the_page_costs_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    for _ in range(20):
        make_request(world.group, category="food", area_group=world.levenshulme)
    client.force_login(world.walker)
    volunteers.forget_all()

    # session, user, group, membership, then the selector's seven
    with django_assert_num_queries(11):
        response = client.get(supply_url(world.group))

    assert response.status_code == 200


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_is_accessible_and_fits_a_phone(live_server, world):
    from axe_playwright_python.sync_playwright import Axe

    from mutualaid.tests.chromium import chromium, close_database_connections

    client = Client()
    client.force_login(world.walker)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    close_database_connections()
    with chromium() as browser:
        context = browser.new_context(locale="en-GB", viewport={"width": 320, "height": 640})
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        page = context.new_page()
        page.goto(live_server.url + supply_url(world.group))
        heading = page.locator("h1").inner_text()
        violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        context.close()

    assert heading == "Where help is needed in Southside Mutual Aid"
    assert [violation["id"] for violation in violations] == []
    assert widths[0] <= widths[1] + 1
