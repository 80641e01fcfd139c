"""Small random worlds for the matching tests: volunteers and needs gathered around a few spots
chosen to be awkward for a grid (either side of the antimeridian, near and on the poles), with
many volunteers at identical points, few skill, language and availability bits (some of them
high) so that filters both pass and fail, and duty times either side of `NOW`."""

import functools
import math
from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from mutualaid.matching import Need
from mutualaid.matching.scoring import EARTH_RADIUS_KM
from mutualaid.matching.tests.model import Volunteer

NOW = 1_000.0

# Spots that lie close together, so that one example draws its volunteers and needs from one.
PLACES = [
    ((51.5, -0.12),),  # a city
    ((-17.0, 179.99), (-17.0, -179.99)),  # either side of the antimeridian, about 2 km apart
    ((0.0, 180.0), (0.0, -180.0)),  # the same points, named twice
    ((89.99, 0.0), (90.0, 0.0)),  # a kilometre from the north pole, and on it
    ((-89.995, 100.0), (-89.995, -80.0)),  # either side of the south pole
    ((0.0, 0.0),),
]
SPOTS = [spot for place in PLACES for spot in place]
FIXED_OFFSETS = [(0.0, 0.0), (0.01, 0.0), (0.0, 0.01), (-0.004, 0.003)]

SKILL_BITS = [0, 1, 2, 63]
LANGUAGE_BITS = [0, 1, 2, 40]
AVAILABILITY_BITS = [0, 1, 2, 20]

RADII = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0]
WIDE_RADII = [300.0, 2_500.0, 21_000.0]  # the last one reaches round the whole Earth
TRAVEL = [0.0, 1.0, 2.5, 5.0, 10.0, 25_000.0, 25_000.0]
DUTY = [0.0, 0.0, 0.0, NOW - 10.0, NOW, NOW + 50.0, NOW + 100.0]


def masks(bits: list[int]) -> st.SearchStrategy[int]:
    """Any combination of `bits`: the n-th of them is set when bit n of a small number is."""

    def spread(number: int) -> int:
        return sum(1 << bit for n, bit in enumerate(bits) if number >> n & 1)

    return st.integers(0, 2 ** len(bits) - 1).map(spread)


def sometimes(strategy: st.SearchStrategy[int]) -> st.SearchStrategy[int]:
    """Usually 0 (no requirement), otherwise what `strategy` draws."""
    return st.one_of(st.just(0), st.just(0), strategy)


# Strategies are built once: building them afresh for every draw costs more than drawing.
SKILLS = masks(SKILL_BITS)
LANGUAGES = masks(LANGUAGE_BITS)
AVAILABILITY = masks(AVAILABILITY_BITS)
ONE_LANGUAGE = st.sampled_from([0] + [1 << bit for bit in LANGUAGE_BITS])
TRAVELS = st.one_of(st.sampled_from(TRAVEL), st.floats(0.0, 12.0))
CAPACITIES = st.one_of(st.integers(1, 3), st.integers(0, 3))
LOADS = st.one_of(st.just(0), st.integers(0, 3))
RADIUS = st.one_of(st.sampled_from(RADII), st.floats(0.0, 10.0), st.sampled_from(WIDE_RADII))


def wrapped(longitude: float) -> float:
    return (longitude + 180.0) % 360.0 - 180.0


def _moved(spot: tuple[float, float], offset: tuple[float, float]) -> tuple[float, float]:
    (latitude, longitude), (north, east) = spot, offset
    latitude = max(-90.0, min(90.0, latitude + north))
    if east:
        # About as far east-west as north-south, which near a pole is many degrees.
        stretch = max(math.cos(math.radians(latitude)), 1e-3)
        longitude = wrapped(longitude + max(-180.0, min(180.0, east / stretch)))
    return latitude, longitude


@functools.cache
def points(
    spots: tuple[tuple[float, float], ...] = tuple(SPOTS), spread_degrees: float = 0.05
) -> st.SearchStrategy[tuple[float, float]]:
    """A point near one of `spots`: at the spot itself, at one of a few fixed offsets from it
    (so that many volunteers share a point), or anywhere within about `spread_degrees`."""
    spread = st.floats(-spread_degrees, spread_degrees)
    offsets = st.one_of(st.sampled_from(FIXED_OFFSETS), st.tuples(spread, spread))
    return st.builds(_moved, st.sampled_from(spots), offsets)


@functools.cache
def volunteers(
    where: st.SearchStrategy[tuple[float, float]] | None = None,
) -> st.SearchStrategy[Volunteer]:
    """A volunteer at a point `where` draws, with id 0: give them theirs with `numbered`."""

    def volunteer(place: tuple[float, float], **values: Any) -> Volunteer:
        return Volunteer(0, *place, **values)

    return st.builds(
        volunteer,
        points() if where is None else where,
        travel_km=TRAVELS,
        skills=SKILLS,
        languages=LANGUAGES,
        availability=AVAILABILITY,
        capacity=CAPACITIES,
        load=LOADS,
        recent_tasks=st.integers(0, 12),
        on_duty_until=st.sampled_from(DUTY),
    )


def numbered(volunteer: Volunteer, volunteer_id: int) -> Volunteer:
    return replace(volunteer, id=volunteer_id)


@st.composite
def crowds(
    draw: st.DrawFn,
    min_size: int = 0,
    max_size: int = 30,
    where: st.SearchStrategy[tuple[float, float]] | None = None,
) -> list[Volunteer]:
    """Volunteers with distinct ids."""
    size = draw(st.integers(min_size, max_size))
    ids = draw(st.lists(st.integers(0, 400), min_size=size, max_size=size, unique=True))
    people = draw(st.lists(volunteers(where), min_size=size, max_size=size))
    return [
        numbered(volunteer, volunteer_id)
        for volunteer, volunteer_id in zip(people, ids, strict=True)
    ]


@functools.cache
def needs(
    where: st.SearchStrategy[tuple[float, float]] | None = None,
    radii: st.SearchStrategy[float] = RADIUS,
) -> st.SearchStrategy[Need]:
    def need(place: tuple[float, float], **values: Any) -> Need:
        return Need(0, *place, **values)

    return st.builds(
        need,
        points() if where is None else where,
        radius_km=radii,
        skills=sometimes(SKILLS),
        languages=sometimes(LANGUAGES),
        preferred_language=ONE_LANGUAGE,
        preferred_skills=sometimes(SKILLS),
        window=sometimes(AVAILABILITY),
    )


def excluded(crowd: list[Volunteer]) -> st.SearchStrategy[frozenset[int]]:
    """Some of the crowd's ids, and perhaps ids nobody has."""
    known = [volunteer.id for volunteer in crowd] or [0]
    return st.frozensets(st.one_of(st.sampled_from(known), st.integers(-3, 500)), max_size=5)


def destination(
    start: tuple[float, float], kilometres: float, bearing_degrees: float
) -> tuple[float, float]:
    """The point `kilometres` from `start` heading `bearing_degrees` along a great circle."""
    phi, lam = math.radians(start[0]), math.radians(start[1])
    delta, theta = kilometres / EARTH_RADIUS_KM, math.radians(bearing_degrees)
    sine = math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sine)))
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), wrapped(math.degrees(lam2))


@functools.cache
def around(start: tuple[float, float], radius_km: float) -> st.SearchStrategy[tuple[float, float]]:
    """Points in any direction from `start`, up to a little beyond `radius_km`, many of them
    close to an eighth, a quarter, half or all of it (where the index widens its search)."""
    anywhere = st.floats(0.0, radius_km * 1.2)
    edge = st.sampled_from([0.125, 0.25, 0.5, 1.0]).map(lambda share: share * radius_km)
    near_edge = st.builds(
        lambda at, off: max(0.0, at + off), edge, st.floats(-radius_km / 8, radius_km / 8)
    )
    return st.builds(
        destination, st.just(start), st.one_of(anywhere, near_edge), st.floats(0.0, 360.0)
    )
