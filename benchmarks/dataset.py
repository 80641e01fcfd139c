"""A large, made-up but realistic network of groups and members, loaded in bulk.

20 area groups, each with 9 ward groups, each with 10 street groups (2,000 groups), and 20,000
members spread evenly over the streets. Every member is in their street group, 3 in 4 are also
in their ward group and 1 in 2 in their area group, so a street has about 11 members, a ward
about 83 and an area about 500.

Bulk inserts keep the models' invariants: groups nest area > ward > street, each group's
creator is its first member and held the founding steward role for 30 days, later roles were
proposed by one member and confirmed by another, pending requests to join come from people who
are not yet members. bulk_create goes through each field's get_prep_value, so email addresses,
phone numbers and addresses are encrypted exactly as a sign-up would store them.

Everything is seeded: every run makes the same data.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from mutualaid.common.geo import round_to_rough
from mutualaid.groups.models import (
    FOUNDING_STEWARD_DAYS,
    Group,
    JoinRequest,
    Membership,
    Role,
    RoleGrant,
)
from mutualaid.people.models import ALL_WEEK, Skill, User

SEED = 2026
EMAIL_DOMAIN = "bench.example"
# Made-up members on a throwaway database.
PASSWORD = "bench-password-not-secret"

AREAS = 20
WARDS_PER_AREA = 9
STREETS_PER_WARD = 10
MEMBERS = 20_000
WARD_SHARE = 0.75
AREA_SHARE = 0.5

AREA_NAMES = [
    "Ashford Vale",
    "Brackenridge",
    "Castlemere",
    "Dunmore",
    "Elmstead",
    "Fernhill",
    "Glenbrook",
    "Harrowgate",
    "Ivybridge",
    "Juniper Hill",
    "Kingsmoor",
    "Larkfield",
    "Millbrook",
    "Northwick",
    "Oakhurst",
    "Pennington",
    "Queensbury",
    "Riverside",
    "Stonebridge",
    "Thornbury",
]
WARD_NAMES = [
    "Central",
    "North",
    "South",
    "East",
    "West",
    "Park",
    "Station",
    "Market",
    "Canal",
]
STREET_NAMES = [
    "Albert Road",
    "Victoria Street",
    "Church Lane",
    "Mill Street",
    "Station Road",
    "Park Avenue",
    "High Street",
    "Queens Road",
    "Green Lane",
    "Chapel Street",
]
ADJECTIVES = [
    "Quiet",
    "Sunny",
    "Blue",
    "Little",
    "Tall",
    "Red",
    "Green",
    "Old",
    "Swift",
    "Kind",
    "Copper",
    "Silver",
    "Night",
    "Morning",
    "Paper",
    "Ginger",
]
NOUNS = [
    "Otter",
    "Fox",
    "Heron",
    "Wren",
    "Kettle",
    "Lantern",
    "Badger",
    "Oak",
    "Finch",
    "Teapot",
    "Compass",
    "Bramble",
    "Clover",
    "Hazel",
    "Puffin",
    "Orchard",
]
LANGUAGES = ["ur", "pl", "bn", "so", "ar", "pa", "ro", "es", "fa", "gu"]


@dataclass
class Dataset:
    """What the measurements need to know about the loaded data."""

    members: int = 0
    groups: int = 0
    memberships: int = 0
    role_grants: int = 0
    join_requests: int = 0
    seconds: float = 0.0
    member_counts: dict[str, int] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)
    # The founder of the biggest area group (for sessions and tokens).
    founder_id: int = 0
    # The street, ward and area groups that member founded (and is steward of), by kind.
    founder_groups: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        return (
            f"{self.groups:,} groups ({AREAS} areas > {AREAS * WARDS_PER_AREA} wards > "
            f"{AREAS * WARDS_PER_AREA * STREETS_PER_WARD:,} streets), {self.members:,} members, "
            f"{self.memberships:,} memberships, {self.role_grants:,} role grants, "
            f"{self.join_requests:,} pending requests to join"
        )


def _coordinate(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.00001"))


def _near(rng: random.Random, latitude: float, longitude: float, km: float) -> tuple[float, float]:
    return (
        latitude + rng.uniform(-km, km) / 111.2,
        longitude + rng.uniform(-km, km) / 70.0,
    )


def _make_members(rng: random.Random, now: datetime) -> list[User]:
    password = make_password(PASSWORD)  # hashed once: hashing is the slow part of a sign-up
    users = []
    for i in range(MEMBERS):
        latitude, longitude = _near(rng, 53.0, -2.0, 150)
        spoken = ["en"] if rng.random() < 0.85 else []
        spoken += rng.sample(LANGUAGES, k=rng.choice([0, 0, 1, 1, 2]))
        users.append(
            User(
                email=f"member{i:05d}@{EMAIL_DOMAIN}",
                password=password,
                display_name=f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {i}",
                phone=f"+44 7700 9{i:05d}" if rng.random() < 0.6 else "",
                address=f"{rng.randint(1, 200)} {rng.choice(STREET_NAMES)}"
                if rng.random() < 0.3
                else "",
                languages=spoken or [rng.choice(LANGUAGES)],
                availability=rng.randint(0, ALL_WEEK),
                home_area=f"M{rng.randint(1, 40)}",
                home_latitude=round_to_rough(latitude),
                home_longitude=round_to_rough(longitude),
                travel_km=rng.choice([1, 2, 3, 3, 5, 8]),
                consent_version=settings.PRIVACY_NOTICE_VERSION,
                consent_at=now,
                date_joined=now - timedelta(days=rng.randint(1, 900)),
            )
        )
    users = User.objects.bulk_create(users, batch_size=2000)
    EmailAddress.objects.bulk_create(
        (EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users),
        batch_size=2000,
    )
    skills = list(Skill.objects.filter(group=None))
    User.skills.through.objects.bulk_create(
        (
            User.skills.through(user=u, skill=s)
            for u in users
            for s in rng.sample(skills, k=rng.randint(1, 3))
        ),
        batch_size=5000,
    )
    return users


@dataclass
class _Plan:
    """A group before it is saved, with the members it will have (founder first)."""

    group: Group
    members: list[User]


def _plan(members: list[User], centre: tuple[float, float], **fields: Any) -> _Plan:
    """A group founded by the first of `members`, around `centre`; its parent is set later."""
    latitude, longitude = centre
    group = Group(
        created_by=members[0],
        centre_latitude=_coordinate(latitude),
        centre_longitude=_coordinate(longitude),
        **fields,
    )
    return _Plan(group, members)


def _grant(
    group: Group, holder: User, role: str, proposer: User, confirmer: User | None, **dates: object
) -> RoleGrant:
    return RoleGrant(
        group=group,
        holder=holder,
        role=role,
        reason=f"Agreed at the {group.name} meeting",
        proposed_by=proposer,
        confirmed_by=confirmer,
        **dates,
    )


@transaction.atomic
def load() -> Dataset:
    """Load the whole dataset into the (empty, migrated) database."""
    now = timezone.now()
    rng = random.Random(SEED)
    users = _make_members(rng, now)
    rng.shuffle(users)

    # Streets take members in turn, so each has 11 or 12.
    street_count = AREAS * WARDS_PER_AREA * STREETS_PER_WARD
    street_members: list[list[User]] = [[] for _ in range(street_count)]
    for i, user in enumerate(users):
        street_members[i % street_count].append(user)

    created_at = now - timedelta(days=1000)
    common = {"created_at": created_at, "retention_days": 90, "currency": "GBP"}
    areas: list[_Plan] = []
    wards: list[tuple[_Plan, int]] = []
    streets: list[tuple[_Plan, int]] = []
    s = 0
    for a, area_name in enumerate(AREA_NAMES[:AREAS]):
        area_lat, area_lon = 51.0 + a * 0.2, -3.0 + a * 0.1
        area_members: list[User] = []
        for w, ward_name in enumerate(WARD_NAMES[:WARDS_PER_AREA]):
            ward_lat, ward_lon = _near(rng, area_lat, area_lon, 3)
            ward_members: list[User] = []
            for street_name in STREET_NAMES[:STREETS_PER_WARD]:
                members = street_members[s]
                street = _plan(
                    members,
                    _near(rng, ward_lat, ward_lon, 1),
                    name=f"{street_name} Neighbours",
                    slug=slugify(f"{street_name} {ward_name} {area_name}"),
                    kind=Group.Kind.STREET,
                    place=f"{ward_name} {area_name}",
                    description=(
                        f"Neighbours on {street_name} looking out for each other: shopping, "
                        "lifts, a friendly knock on the door."
                    ),
                    radius_km=Decimal("0.5"),
                    languages=["en"],
                    **common,
                )
                streets.append((street, len(wards)))
                ward_members += [
                    m for i, m in enumerate(members) if i == 0 or rng.random() < WARD_SHARE
                ]
                s += 1
            ward = _plan(
                ward_members,
                (ward_lat, ward_lon),
                name=f"{area_name} {ward_name} Ward Mutual Aid",
                slug=slugify(f"{area_name} {ward_name} ward"),
                kind=Group.Kind.WARD,
                place=f"{ward_name} {area_name}",
                description=(
                    f"The {ward_name} ward of {area_name}: a weekly food share, a tool library "
                    "and help with forms. Ring the hotline if you need anything picked up."
                ),
                radius_km=Decimal("2"),
                languages=["en", *rng.sample(LANGUAGES, k=2)],
                hotline_phone=f"+44 161 496 {len(wards):04d}",
                contact_email=f"ward{len(wards)}@{EMAIL_DOMAIN}",
                join_needs_vouch=len(wards) % 10 == 0,
                **common,
            )
            wards.append((ward, len(areas)))
            area_members += [
                m
                for i, m in enumerate(ward_members)
                if (i == 0 and w == 0) or rng.random() < AREA_SHARE
            ]
        area = _plan(
            area_members,
            (area_lat, area_lon),
            name=f"{area_name} Mutual Aid",
            slug=slugify(area_name),
            kind=Group.Kind.AREA,
            place=area_name,
            description=(
                f"Neighbours helping neighbours across {area_name}: shopping and prescriptions, "
                "lifts to appointments and a friendly phone call. No forms, no questions about "
                "who deserves what."
            ),
            radius_km=Decimal("6"),
            languages=["en", *rng.sample(LANGUAGES, k=3)],
            hotline_phone=f"+44 161 497 {a:04d}",
            contact_email=f"area{a}@{EMAIL_DOMAIN}",
            **common,
        )
        areas.append(area)

    # Save top-down so each level knows its parent's primary key.
    Group.objects.bulk_create([p.group for p in areas])
    for plan, parent in wards:
        plan.group.parent = areas[parent].group
    Group.objects.bulk_create([p.group for p, _ in wards])
    for plan, parent in streets:
        plan.group.parent = wards[parent][0].group
    Group.objects.bulk_create([p.group for p, _ in streets], batch_size=1000)
    plans = areas + [p for p, _ in wards] + [p for p, _ in streets]

    memberships = []
    grants = []
    for plan in plans:
        group, members = plan.group, plan.members
        founder = members[0]
        memberships.append(Membership(group=group, member=founder, joined_at=created_at))
        memberships += [
            Membership(
                group=group, member=m, joined_at=created_at + timedelta(days=rng.randint(1, 990))
            )
            for m in members[1:]
        ]
        # The founder's first term as steward, long over, then a steward the group chose.
        grants.append(
            _grant(
                group,
                founder,
                Role.STEWARD,
                founder,
                None,
                granted_at=created_at,
                confirmed_at=created_at,
                expires_at=created_at + timedelta(days=FOUNDING_STEWARD_DAYS),
            )
        )
        grants.append(
            _grant(
                group,
                founder,
                Role.STEWARD,
                members[1],
                members[2],
                granted_at=now - timedelta(days=30),
                confirmed_at=now - timedelta(days=29),
                expires_at=now + timedelta(days=60),
            )
        )
        if group.kind == Group.Kind.STREET:
            continue
        in_force = {
            "granted_at": now - timedelta(days=20),
            "confirmed_at": now - timedelta(days=19),
        }
        grants += [
            _grant(
                group,
                members[3],
                Role.DISPATCHER,
                founder,
                members[1],
                **in_force,
                expires_at=now + timedelta(days=70),
            ),
            _grant(
                group,
                members[4],
                Role.TREASURER,
                members[1],
                founder,
                **in_force,
                expires_at=now + timedelta(days=70),
            ),
            # Proposed at the last meeting; a second member has yet to confirm it.
            _grant(
                group,
                members[5],
                Role.HUB_KEEPER,
                founder,
                None,
                granted_at=now - timedelta(days=2),
                expires_at=now + timedelta(days=88),
            ),
            _grant(
                group,
                members[6],
                Role.COORDINATOR,
                founder,
                members[1],
                granted_at=now - timedelta(days=200),
                confirmed_at=now - timedelta(days=199),
                expires_at=now - timedelta(days=110),
            ),
        ]
    Membership.objects.bulk_create(memberships, batch_size=5000)
    RoleGrant.objects.bulk_create(grants, batch_size=2000)

    # Newcomers waiting for a vouch in the wards that want one: people from the next area.
    requests = []
    for plan, area_index in wards:
        if not plan.group.join_needs_vouch:
            continue
        strangers = areas[(area_index + 1) % len(areas)].members[:3]
        requests += [
            JoinRequest(
                group=plan.group,
                applicant=u,
                message="I moved here last month and can help with shopping.",
                created_at=now - timedelta(days=1),
            )
            for u in strangers
        ]
    JoinRequest.objects.bulk_create(requests)

    founder = max(areas, key=lambda p: len(p.members)).members[0]
    return Dataset(
        members=len(users),
        groups=len(plans),
        memberships=len(memberships),
        role_grants=len(grants),
        join_requests=len(requests),
        seconds=(timezone.now() - now).total_seconds(),
        member_counts={p.group.slug: len(p.members) for p in plans},
        emails=[u.email for u in users],
        founder_id=founder.pk,
        founder_groups={p.group.kind: p.group.slug for p in plans if p.members[0] == founder},
    )
