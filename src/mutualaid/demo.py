"""Demo data: mutual aid in south Manchester, made through the same services as real use.

An area group with three ward groups inside it, about sixty members with pseudonyms, languages,
skills, weekly availability and rough home areas, roles given by the two-person rule, and one
ward that wants a vouch, with a newcomer still waiting; requests for help in every state and
current offers (see needs/demo.py). Everything is seeded, so every run makes
the same data; loading twice changes nothing.

Phone numbers are from Ofcom's ranges kept for drama (0161 496 0xxx, 07700 900xxx) and email
addresses use the reserved .example domain, so nothing here can reach a real person.
"""

import math
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from mutualaid.common.geo import round_to_rough
from mutualaid.decisions.demo import load_decisions_demo
from mutualaid.funds.demo import HARDSHIP_FUND, load_funds_demo
from mutualaid.groups import services as group_services
from mutualaid.groups.models import DecisionRule, Group, JoinRequest, Role
from mutualaid.needs import notifications
from mutualaid.needs.demo import load_needs_demo
from mutualaid.people.models import DAY_PARTS, WEEKDAYS, Skill, User, availability_bit

SEED = 1917
EMAIL_DOMAIN = "mutualaid.example"
DEMO_EMAIL = f"demo@{EMAIL_DOMAIN}"
DEMO_PASSWORD = "mutual-aid-demo"  # noqa: S105 - printed on purpose: it is demo data
AREA_SLUG = "manchester-south"

# Members pick from the shared skills the people app seeds, and one more that mutual aid groups
# ask for a lot.
EXTRA_SKILL = "Collecting prescriptions"

PSEUDONYMS = [
    "Sunny Fox",
    "Aunty Bee",
    "Blue Heron",
    "Quiet Otter",
    "Night Owl",
    "Red Kite",
    "Green Finch",
    "Little Wren",
    "Big Spoon",
    "Chai Uncle",
    "Pierogi Queen",
    "Bus Pass Betty",
    "Allotment Al",
    "Bookworm",
    "Tall Pine",
    "Kettle On",
    "Cargo Bike",
    "Mango Lassi",
    "Laundry Hero",
    "Samosa Sam",
    "Sock Knitter",
    "Morning Lark",
    "Old Oak",
    "Swift",
    "Tiny Toolbox",
    "Lentil Soup",
    "Silver Birch",
    "Nana Rose",
    "Uncle Biscuit",
    "Jam Jar",
    "River Stone",
    "Paper Crane",
    "Copper Kettle",
    "Puffin",
    "Hedgehog",
    "Badger",
    "Ginger Cat",
    "Lantern",
    "Compass",
    "Pocket Torch",
    "Bread Basket",
    "Teapot",
    "Windmill",
    "Rainbow Scarf",
    "Plum Tree",
    "Thimble",
    "Sundial",
    "Orchard",
    "Barley",
    "Nettle",
    "Clover",
    "Hazel",
    "Juniper",
    "Marigold",
    "Saffron",
    "Cardamom",
    "Mint Tea",
    "Fig Roll",
    "Yellow Brick",
    "Bramble",
]


@dataclass(frozen=True)
class Place:
    name: str
    latitude: Decimal
    longitude: Decimal
    radius_km: Decimal
    postcodes: tuple[str, ...]
    languages: tuple[str, ...]
    hotline: str


AREA = Place(
    "Manchester South",
    Decimal("53.45200"),
    Decimal("-2.20700"),
    Decimal("4"),
    ("M12", "M13", "M14", "M19"),
    ("en", "ur", "pl", "bn", "so", "ar"),
    "+44 161 496 0100",
)
WARDS = [
    Place(
        "Levenshulme",
        Decimal("53.44380"),
        Decimal("-2.19170"),
        Decimal("1.5"),
        ("M19",),
        ("en", "ur", "pl", "pa"),
        "+44 161 496 0123",
    ),
    Place(
        "Longsight",
        Decimal("53.45800"),
        Decimal("-2.20060"),
        Decimal("1.5"),
        ("M12", "M13"),
        ("en", "ur", "bn", "so", "gu"),
        "+44 161 496 0456",
    ),
    Place(
        "Rusholme",
        Decimal("53.45310"),
        Decimal("-2.22380"),
        Decimal("1.5"),
        ("M14", "M13"),
        ("en", "ur", "ar", "fa", "so"),
        "+44 161 496 0789",
    ),
]
# Rusholme's members agreed that newcomers are vouched for by someone who knows them.
VOUCHING_WARD = "Rusholme"
# Members 0..5 live around the edges and belong only to the area group; the rest are spread
# over the wards in turn.
AREA_ONLY_MEMBERS = 6

DESCRIPTIONS = {
    "Manchester South": (
        "Neighbours helping neighbours across Levenshulme, Longsight and Rusholme since the "
        "first lockdown: shopping and prescriptions, a weekly food share, lifts to appointments "
        "and a friendly phone call. No forms, no questions about who deserves what."
    ),
    "Levenshulme": (
        "Street WhatsApps, a Saturday food share at the market and a tool library. Ring the "
        "hotline if you need anything picked up."
    ),
    "Longsight": (
        "Volunteers around Stockport Road: shopping runs, school uniform swaps and help with "
        "forms in Urdu, Bengali and Somali."
    ),
    "Rusholme": (
        "Students and long-time neighbours on and around the Curry Mile. New members are "
        "vouched for by someone in the group who knows them."
    ),
}

# Weekly patterns people actually offer: (days, parts of the day).
AVAILABILITY_PATTERNS = [
    (range(5), (2,)),  # weekday evenings
    ((5, 6), (0, 1)),  # weekend days
    ((0, 2, 4), (0,)),  # Monday, Wednesday, Friday mornings
    (range(7), (1,)),  # afternoons, retired
    ((1, 3), (1, 2)),  # Tuesday and Thursday afternoons and evenings
    ((5,), (0, 1, 2)),  # all Saturday
]


class Writer(Protocol):
    """Where progress goes: sys.stdout, a StringIO or a management command's stdout."""

    def write(self, text: str, /) -> object: ...


def _write(stdout: Writer | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def _email_for(index: int, pseudonym: str) -> str:
    if index == 0:
        return DEMO_EMAIL
    return f"{slugify(pseudonym).replace('-', '.')}@{EMAIL_DOMAIN}"


def _availability(rng: random.Random) -> int:
    days, parts = rng.choice(AVAILABILITY_PATTERNS)
    mask = 0
    for day in days:
        for part in parts:
            mask |= availability_bit(day, part)
    # Most people add a slot or two of their own.
    for _ in range(rng.randint(0, 2)):
        mask |= availability_bit(rng.randrange(len(WEEKDAYS)), rng.randrange(len(DAY_PARTS)))
    return mask


def _near(rng: random.Random, place: Place, max_km: float) -> tuple[Decimal, Decimal]:
    """A point up to `max_km` from the place's centre, rounded to the rough grid."""
    distance = max_km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    latitude = float(place.latitude) + distance * math.cos(bearing) / 111.2
    longitude = float(place.longitude) + distance * math.sin(bearing) / (
        111.2 * math.cos(math.radians(float(place.latitude)))
    )
    return round_to_rough(latitude), round_to_rough(longitude)


def _languages(rng: random.Random, place: Place) -> list[str]:
    spoken = ["en"] if rng.random() < 0.9 else []
    others = [code for code in place.languages if code != "en"]
    spoken += rng.sample(others, k=min(len(others), rng.choice([0, 0, 1, 1, 2])))
    return spoken or [rng.choice(others)]


def _make_members(rng: random.Random) -> tuple[list[User], list[Place | None]]:
    """Members made in bulk (the slow part of a real sign-up, hashing, is done once)."""
    now = timezone.now()
    password = make_password(DEMO_PASSWORD)
    Skill.objects.get_or_create(name=EXTRA_SKILL, group=None)
    skills = list(Skill.objects.filter(group=None).order_by("pk"))
    users: list[User] = []
    homes: list[Place | None] = []
    for index, pseudonym in enumerate(PSEUDONYMS):
        ward = None if 0 < index <= AREA_ONLY_MEMBERS else WARDS[index % len(WARDS)]
        place = ward or AREA
        latitude, longitude = _near(rng, place, 1.2 if ward else 3.5)
        users.append(
            User(
                email=_email_for(index, pseudonym),
                password=password,
                display_name=pseudonym,
                phone=f"+44 7700 900{index:03d}" if rng.random() < 0.6 else "",
                languages=_languages(rng, place),
                availability=_availability(rng),
                home_area=rng.choice(place.postcodes),
                home_latitude=latitude,
                home_longitude=longitude,
                travel_km=rng.choice([1, 2, 2, 3, 3, 3, 5, 8]),
                consent_version=settings.PRIVACY_NOTICE_VERSION,
                consent_at=now,
                date_joined=now - timedelta(days=rng.randint(1, 900)),
            )
        )
        homes.append(ward)
    users = User.objects.bulk_create(users)
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
    )
    User.skills.through.objects.bulk_create(
        User.skills.through(user=user, skill=skill)
        for user in users
        for skill in rng.sample(skills, k=min(len(skills), rng.randint(1, 3)))
    )
    return users, homes


def _grant(group: Group, holder: User, role: str, proposer: User, confirmer: User) -> None:
    grant = group_services.role_grant_propose(
        group=group,
        proposer=proposer,
        holder=holder,
        role=role,
        reason=f"Agreed at the {group.name} meeting",
    )
    group_services.role_grant_confirm(grant=grant, confirmer=confirmer)


def _ward_members(users: list[User], homes: list[Place | None], ward: Place) -> list[User]:
    return [user for user, home in zip(users, homes, strict=True) if home == ward]


@transaction.atomic
def load_demo(*, stdout: Writer | None = None) -> bool:
    """Load the demo data unless it is already there. Returns whether anything was loaded."""
    if Group.objects.filter(slug=AREA_SLUG).exists():
        _write(stdout, "The demo data is already loaded.")
        return False
    rng = random.Random(SEED)
    users, homes = _make_members(rng)
    by_name = {user.display_name: user for user in users}
    demo = users[0]

    area = group_services.group_create(
        creator=demo,
        name="Manchester South Mutual Aid",
        slug=AREA_SLUG,
        kind=Group.Kind.AREA,
        centre_latitude=AREA.latitude,
        centre_longitude=AREA.longitude,
        radius_km=AREA.radius_km,
        place="Manchester",
        description=DESCRIPTIONS[AREA.name],
        languages=list(AREA.languages),
        hotline_phone=AREA.hotline,
        contact_email=f"south@{EMAIL_DOMAIN}",
    )
    # Most ward members are in the area group too; everyone who lives between wards is.
    for user, home in zip(users[1:], homes[1:], strict=True):
        if home is None or rng.random() < 0.75:
            group_services.group_join(group=area, member=user)

    wards: dict[str, Group] = {}
    for ward in WARDS:
        members = _ward_members(users, homes, ward)
        founder = next(
            user
            for user in members
            if user != demo and area.memberships.filter(member=user).exists()
        )
        group = group_services.group_create(
            creator=founder,
            name=f"{ward.name} Mutual Aid",
            kind=Group.Kind.WARD,
            parent=area,
            centre_latitude=ward.latitude,
            centre_longitude=ward.longitude,
            radius_km=ward.radius_km,
            place=f"{ward.name}, Manchester",
            description=DESCRIPTIONS[ward.name],
            languages=list(ward.languages),
            hotline_phone=ward.hotline,
            contact_email=f"{slugify(ward.name)}@{EMAIL_DOMAIN}",
            join_needs_vouch=ward.name == VOUCHING_WARD,
        )
        wards[ward.name] = group
        joining = [user for user in members if user != founder]
        if ward.name == VOUCHING_WARD:
            newcomer = joining.pop()
            for user in joining:
                join_request = group_services.group_join(group=group, member=user)
                assert isinstance(join_request, JoinRequest)
                group_services.join_request_vouch(join_request=join_request, voucher=founder)
            group_services.group_join(
                group=group,
                member=newcomer,
                message="I moved onto Wilmslow Road last month and can help with shopping.",
            )
        else:
            for user in joining:
                group_services.group_join(group=group, member=user)

    _grant(area, demo, Role.DISPATCHER, by_name["Quiet Otter"], by_name["Night Owl"])
    _grant(area, by_name["Quiet Otter"], Role.TREASURER, demo, by_name["Night Owl"])
    _grant(area, by_name["Night Owl"], Role.COORDINATOR, by_name["Quiet Otter"], demo)
    for name, group in wards.items():
        members = [m.member for m in group.memberships.select_related("member").order_by("pk")]
        founder, dispatcher, confirmer = members[0], members[1], members[2]
        _grant(group, dispatcher, Role.DISPATCHER, founder, confirmer)
        if name == "Levenshulme":
            _grant(group, members[3], Role.TREASURER, dispatcher, founder)
        if name == "Longsight":
            _grant(group, members[3], Role.COORDINATOR, founder, dispatcher)
            # Proposed at the last meeting; a second member has yet to confirm it.
            group_services.role_grant_propose(
                group=group,
                proposer=founder,
                holder=members[4],
                role=Role.HUB_KEEPER,
                reason="Will run the Thursday pantry at the community centre",
            )

    # The people asking are made up: nobody is emailed about their requests.
    with notifications.paused():
        needs = load_needs_demo(area=area, wards=wards, dispatcher=demo, rng=rng)
        # The area group has run for two months, so its roles now come from its decisions.
        group_services.group_update(
            actor=demo, group=area, decision_rule=DecisionRule.CONSENSUS, quorum_percent=15
        )
        Group.objects.filter(pk=area.pk).update(created_at=timezone.now() - timedelta(weeks=9))
        area.refresh_from_db()
        treasurer = by_name["Quiet Otter"]
        funds = load_funds_demo(
            group=area,
            treasurer=treasurer,
            confirmers=(by_name["Night Owl"], demo),
            contributor=by_name["Night Owl"],
        )
        proposals = load_decisions_demo(
            group=area,
            members=[m.member for m in area.memberships.select_related("member").order_by("pk")],
            treasurer=treasurer,
            hardship_fund=funds[HARDSHIP_FUND],
        )

    _write(
        stdout,
        f"Loaded the demo data: {len(wards) + 1} groups in Manchester and {len(users)} members, "
        f"{needs['requests']} requests for help, {needs['offers']} offers, {len(funds)} funds "
        f"and {proposals} proposals.",
    )
    return True


def login_instructions(*, site_url: str) -> str:
    """How to log in to the demo, for the console."""
    # Mail may be queued for the worker; what counts is how it is finally delivered.
    by_code = (
        "the email with the code is printed in this console, because EMAIL_URL defaults to "
        "console://"
        if settings.EMAIL_DELIVERY_BACKEND == "django.core.mail.backends.console.EmailBackend"
        else "the code is sent by email"
    )
    return "\n".join(
        [
            "",
            f"Log in at {site_url}/accounts/login/ with",
            f"    email:    {DEMO_EMAIL}",
            f"    password: {DEMO_PASSWORD}",
            "  a steward and dispatcher of Manchester South Mutual Aid.",
            f"Every demo member (for example aunty.bee@{EMAIL_DOMAIN} or "
            f"quiet.otter@{EMAIL_DOMAIN}, the treasurer) has the same password, and can also "
            f"log in with a code: {by_code}.",
            "",
        ]
    )
