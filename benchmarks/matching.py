"""Performance of the matching engine (`mutualaid.matching`) on a made-up national network of
volunteers, recorded in docs/benchmarks.md. Plain Python and NumPy: no Django, no database.

    .venv/bin/python benchmarks/matching.py [--quick] [--runs N] [--seed N]
        [--volunteers 1000000] [--batch-volunteers 100000] [--requests 10000,100000]
        [--latency-requests 3000] [--output docs/benchmarks.md | --output -]

The volunteers live where people live: 20 cities, 2,500 towns and 12,000 villages of
lognormal sizes spread around regional centres inside a box the size of the United Kingdom,
each a Gaussian cloud whose width grows with its size, and a few in open country; homes are
rounded to 0.01 degrees, as the product stores them. Each volunteer has skills (a few common,
many rare), languages (most speak English; minority languages cluster in some places), a weekly
availability (21 bits), a travel distance (1 to 15 km, mostly 2 to 5), a capacity of 1 to 3
tasks, a load, recent tasks, and a few are on duty. Requests come from the same population, some
needing a skill (by category), a language or a time window, with a radius of 5 to 10 km.

It measures, on `--volunteers` (1,000,000):

1. building the index from arrays: time, the bytes of its arrays, the peak memory;
2. updates: `upsert_many` of batches of changed volunteers (new attributes, some moved), single
   `upsert` calls and `set_load`, in volunteers a second;
3. one request, top 20: `VolunteerIndex.candidates` against the brute-force scan of
   `mutualaid.matching.reference` with the same filters, on the same requests in the same run;
   median and p99 latency, and the recall against the scan (every result compared);

and on `--batch-volunteers` (100,000), for each of `--requests` (10,000 and 100,000):

4. batch assignment: `assign` against greedy nearest-first (`reference.assign_greedy`) in the
   same run: time, requests served, total distance, peak memory.

Every measurement is repeated (5 runs, 2 with --quick) and the median of the runs reported,
with the targets of issue 4 marked PASS or FAIL. The results replace the matching section of the
output file (between its markers); the rest of the file is kept. The exit status is 1 when the
engine gave a wrong answer (a result the scan disagrees with, an assignment over capacity or out
of range), whatever the timings.
"""

import argparse
import contextlib
import ctypes
import gc
import math
import os
import platform
import shlex
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy
from stats import median, ms, ratio, table

from mutualaid.matching import AssignResult, Need, VolunteerIndex, assign, reference

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
MARKER = "matching"

K = 20
# A Wednesday, 10:00 UTC.
NOW = datetime(2026, 11, 25, 10, tzinfo=UTC).timestamp()
HOUR = 3600.0

# --- Where people live. -----------------------------------------------------------------------

SOUTH, NORTH, WEST, EAST = 49.95, 58.7, -7.6, 1.75
KM_PER_DEGREE = 111.2
ROUGH_DEGREES = 0.01  # how the product rounds a home (`mutualaid.common.geo`)

# Name, latitude, longitude, thousands of people (urban areas, roughly).
CITIES = [
    ("London", 51.507, -0.128, 9000),
    ("Birmingham", 52.486, -1.890, 2900),
    ("Manchester", 53.480, -2.242, 2800),
    ("Leeds", 53.800, -1.549, 1900),
    ("Glasgow", 55.864, -4.252, 1700),
    ("Liverpool", 53.408, -2.991, 900),
    ("Southampton", 50.909, -1.404, 850),
    ("Newcastle", 54.978, -1.618, 800),
    ("Nottingham", 52.954, -1.158, 750),
    ("Sheffield", 53.381, -1.470, 700),
    ("Bristol", 51.455, -2.588, 700),
    ("Belfast", 54.597, -5.930, 600),
    ("Edinburgh", 55.953, -3.188, 550),
    ("Leicester", 52.637, -1.140, 550),
    ("Cardiff", 51.481, -3.179, 480),
    ("Brighton", 50.822, -0.137, 480),
    ("Stoke", 53.003, -2.179, 380),
    ("Hull", 53.745, -0.336, 320),
    ("Plymouth", 50.375, -4.143, 260),
    ("Aberdeen", 57.150, -2.094, 220),
]
# Regional centres that towns and villages gather around, besides the cities.
REGIONAL_CENTRES = [
    (52.630, 1.297),  # Norwich
    (50.726, -3.527),  # Exeter
    (57.478, -4.224),  # Inverness
    (54.892, -2.932),  # Carlisle
    (53.959, -1.082),  # York
    (53.234, -0.538),  # Lincoln
    (52.205, 0.119),  # Cambridge
    (51.752, -1.258),  # Oxford
    (52.057, 1.148),  # Ipswich
    (51.621, -3.944),  # Swansea
    (52.415, -4.083),  # Aberystwyth
    (53.228, -4.129),  # Bangor
    (52.708, -2.754),  # Shrewsbury
    (51.865, -2.244),  # Gloucester
    (56.462, -2.971),  # Dundee
    (56.396, -3.437),  # Perth
    (55.070, -3.605),  # Dumfries
    (54.997, -7.309),  # Derry
    (50.263, -5.051),  # Truro
    (51.015, -3.106),  # Taunton
    (51.069, -1.795),  # Salisbury
    (51.280, 1.079),  # Canterbury
    (52.573, -0.241),  # Peterborough
    (54.047, -2.801),  # Lancaster
    (54.574, -1.235),  # Middlesbrough
    (52.240, -0.902),  # Northampton
    (52.193, -2.220),  # Worcester
    (52.056, -2.716),  # Hereford
    (56.820, -5.105),  # Fort William
    (51.752, -0.336),  # St Albans
    (51.270, -0.523),  # Guildford
    (51.456, -0.971),  # Reading
    (51.572, 0.470),  # Basildon
    (52.919, -4.119),  # Porthmadog
    (51.801, -4.970),  # Haverfordwest
]
TOWNS, VILLAGES = 2500, 12_000
COUNTRYSIDE_SHARE = 0.04  # of volunteers and requests: scattered over the whole box

# The product's language codes, in the order of `people.models.SPOKEN_LANGUAGES`: bit i.
LANGUAGES = [
    "ar", "bn", "zh", "en", "fr", "de", "gu", "hi", "it", "ku", "fa",
    "pl", "pt", "pa", "ro", "so", "es", "ti", "tr", "uk", "ur", "cy",
]  # fmt: skip
ENGLISH = LANGUAGES.index("en")
WELSH = LANGUAGES.index("cy")
# How often each language is the minority language of a place, nationally.
MINORITY_WEIGHTS = {
    "pl": 22, "ur": 10, "pa": 9, "bn": 8, "ar": 7, "ro": 7, "gu": 6, "pt": 5, "zh": 5,
    "es": 4, "so": 3, "tr": 3, "uk": 3, "hi": 3, "it": 2, "fa": 2, "ku": 2, "ti": 1,
}  # fmt: skip
SECOND_LANGUAGES = ["fr", "de", "es", "it"]

# The shared skills (`people` migration 0002), bit i, and the share of volunteers with each;
# groups add their own skills, rarer, from bit 13 on.
SKILLS = [
    ("Shopping", 0.55),
    ("Driving", 0.42),
    ("Cooking", 0.28),
    ("Dog walking", 0.16),
    ("Befriending and phone chats", 0.33),
    ("Translation", 0.06),
    ("DIY repairs", 0.12),
    ("Gardening", 0.18),
    ("Childcare", 0.09),
    ("First aid", 0.11),
    ("IT help", 0.13),
    ("Paperwork help", 0.09),
    ("Heavy lifting", 0.14),
]
GROUP_SKILLS = 32
SKILL_BIT = {name: bit for bit, (name, _share) in enumerate(SKILLS)}

# Category, share of requests, required skill, preferred skills ("group skill": one of the
# groups' own skills, which are rare).
CATEGORIES: list[tuple[str, float, str | None, tuple[str, ...]]] = [
    ("shopping", 0.26, None, ("Shopping",)),
    ("prescription", 0.14, None, ()),
    ("food", 0.10, None, ("Cooking",)),
    ("ride", 0.09, "Driving", ()),
    ("dog_walking", 0.05, "Dog walking", ()),
    ("check_in", 0.08, "Befriending and phone chats", ()),
    ("household", 0.06, None, ("Heavy lifting", "DIY repairs")),
    ("childcare", 0.02, "Childcare", ("First aid",)),
    ("talk", 0.05, "Befriending and phone chats", ()),
    ("money", 0.03, None, ("Paperwork help",)),
    ("housing", 0.02, None, ("Paperwork help",)),
    ("repairs", 0.04, "DIY repairs", ("Heavy lifting",)),
    ("other", 0.04, None, ()),
    ("a group's own", 0.02, "group skill", ()),
]

DAYS, PARTS = 7, 3
ALL_WEEK = (1 << (DAYS * PARTS)) - 1


def availability_bit(day: int, part: int) -> int:
    """As `people.models.availability_bit`: day 0 is Monday; part 0 morning, 2 evening."""
    return 1 << (day * PARTS + part)


def _bits(pairs: Sequence[tuple[int, int]]) -> int:
    return sum(availability_bit(day, part) for day, part in pairs)


WEEKDAY_EVENINGS_AND_WEEKENDS = _bits(
    [(day, 2) for day in range(5)] + [(day, part) for day in (5, 6) for part in range(3)]
)
WEEKENDS = _bits([(day, part) for day in (5, 6) for part in range(3)])
WEEKDAY_DAYTIME = _bits([(day, part) for day in range(5) for part in (0, 1)])
# Share of volunteers with each pattern; 0 is "has not said" (never matches a window).
AVAILABILITY_PATTERNS = [
    (0, 0.15),
    (ALL_WEEK, 0.10),
    (WEEKDAY_EVENINGS_AND_WEEKENDS, 0.30),
    (WEEKENDS, 0.15),
    (WEEKDAY_DAYTIME, 0.20),
    (-1, 0.10),  # a few scattered slots
]
TRAVEL_KM = [(1, 0.05), (2, 0.17), (3, 0.25), (4, 0.15), (5, 0.18), (8, 0.10), (10, 0.06),
             (15, 0.04)]  # fmt: skip
RADIUS_KM = [(5, 0.60), (6, 0.10), (8, 0.15), (10, 0.15)]


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _pick(rng: np.random.Generator, choices: Sequence[tuple[Any, float]], n: int) -> np.ndarray:
    values = np.array([value for value, _share in choices])
    shares = np.array([share for _value, share in choices], dtype=np.float64)
    return values[rng.choice(len(values), size=n, p=shares / shares.sum())]


@dataclass
class Population:
    """Settlements: centre, size (people), spread (km), kind, and the minority languages
    spoken there (up to three language bits, and the share of people speaking each). The last
    row stands for the open country."""

    latitude: np.ndarray
    longitude: np.ndarray
    people: np.ndarray
    spread_km: np.ndarray
    kind: np.ndarray  # 0 city, 1 town, 2 village, 3 countryside
    languages: np.ndarray  # (settlements, 3) language bit numbers
    language_shares: np.ndarray  # (settlements, 3) share of people speaking each

    KINDS = ("city", "town", "village", "countryside")

    @property
    def weights(self) -> np.ndarray:
        weights = self.people[:-1] / self.people[:-1].sum() * (1 - COUNTRYSIDE_SHARE)
        return np.append(weights, COUNTRYSIDE_SHARE)


def make_population(rng: np.random.Generator) -> Population:
    cities = np.array([(lat, lon, people * 1000.0) for _n, lat, lon, people in CITIES])
    centres = np.array([*[(lat, lon) for _n, lat, lon, _p in CITIES], *REGIONAL_CENTRES])

    def around_centres(count: int, spread_km: float) -> tuple[np.ndarray, np.ndarray]:
        centre = centres[rng.integers(len(centres), size=count)]
        latitude = centre[:, 0] + rng.normal(0, spread_km, count) / KM_PER_DEGREE
        longitude = centre[:, 1] + rng.normal(0, spread_km, count) / (
            KM_PER_DEGREE * np.cos(np.radians(centre[:, 0]))
        )
        return np.clip(latitude, SOUTH, NORTH), np.clip(longitude, WEST, EAST)

    town_lat, town_lon = around_centres(TOWNS, 30.0)
    village_lat, village_lon = around_centres(VILLAGES, 40.0)
    town_people = np.clip(rng.lognormal(math.log(6000), 1.0, TOWNS), 1500, 250_000)
    village_people = np.clip(rng.lognormal(math.log(700), 0.7, VILLAGES), 100, 3000)
    latitude = np.concatenate([cities[:, 0], town_lat, village_lat, [0.0]])
    longitude = np.concatenate([cities[:, 1], town_lon, village_lon, [0.0]])
    people = np.concatenate([cities[:, 2], town_people, village_people, [0.0]])
    kind = np.concatenate(
        [np.zeros(len(cities)), np.ones(TOWNS), np.full(VILLAGES, 2), [3]]
    ).astype(np.int8)
    # A city of 9 million spreads about 13 km, a town of 6,000 0.7 km, a village 0.3 km.
    spread_km = 0.35 * (people / 1000.0) ** 0.4

    # Minority languages: more of them in cities; three per place, one of them leading.
    count = len(people)
    minority_share = np.select(
        [kind == 0, kind == 1, kind == 2],
        [
            np.clip(rng.lognormal(math.log(0.12), 0.4, count), 0.03, 0.4),
            np.clip(rng.lognormal(math.log(0.04), 0.8, count), 0.0, 0.3),
            np.clip(rng.lognormal(math.log(0.01), 0.8, count), 0.0, 0.1),
        ],
        0.01,
    )
    minority_share[0] = 0.30  # London
    codes = list(MINORITY_WEIGHTS)
    weights = np.array([MINORITY_WEIGHTS[code] for code in codes], dtype=np.float64)
    weights /= weights.sum()
    # Three different languages per place, drawn by weight (the Gumbel top-k trick).
    keys = np.log(weights) + rng.gumbel(size=(count, len(codes)))
    chosen = np.argsort(-keys, axis=1)[:, :3]
    languages = np.array([LANGUAGES.index(code) for code in codes])[chosen]
    mix = rng.dirichlet([3.0, 1.5, 0.75], size=count)
    shares = mix * minority_share[:, None]
    # Wales: Welsh leads, more so in the north and west.
    wales = (longitude > -5.4) & (longitude < -2.7) & (latitude > 51.35) & (latitude < 53.45)
    wales &= ~((longitude > -3.1) & (latitude > 53.25)) & (kind < 3)
    languages[wales, 0] = WELSH
    shares[wales, 0] = np.where(longitude[wales] < -3.8, 0.45, 0.15)
    return Population(latitude, longitude, people, spread_km, kind, languages, shares)


def _places(
    population: Population, rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n homes drawn from the population: (settlement row, latitude, longitude), rounded as
    the product rounds homes."""
    settlement = rng.choice(len(population.people), size=n, p=population.weights)
    latitude = population.latitude[settlement].copy()
    longitude = population.longitude[settlement].copy()
    spread = population.spread_km[settlement]
    latitude += rng.normal(0, 1, n) * spread / KM_PER_DEGREE
    longitude += rng.normal(0, 1, n) * spread / (KM_PER_DEGREE * np.cos(np.radians(latitude)))
    countryside = population.kind[settlement] == 3
    latitude[countryside] = rng.uniform(SOUTH, NORTH, int(countryside.sum()))
    longitude[countryside] = rng.uniform(WEST, EAST, int(countryside.sum()))
    latitude = np.round(np.clip(latitude, SOUTH, NORTH) / ROUGH_DEGREES) * ROUGH_DEGREES
    longitude = np.round(np.clip(longitude, WEST, EAST) / ROUGH_DEGREES) * ROUGH_DEGREES
    return settlement, latitude, longitude


def _minority_language(
    population: Population, rng: np.random.Generator, settlement: np.ndarray
) -> np.ndarray:
    """For each person, the bit number of the minority language they speak, or -1."""
    shares = population.language_shares[settlement]
    draw = rng.random(len(settlement))
    which = (draw[:, None] > np.cumsum(shares, axis=1)).sum(axis=1)
    speaks = which < 3
    language = np.full(len(settlement), -1, np.int64)
    language[speaks] = population.languages[settlement[speaks], which[speaks]]
    return language


def make_volunteers(
    population: Population, rng: np.random.Generator, n: int, *, first_id: int = 1
) -> dict[str, np.ndarray]:
    """The columns of n volunteers, as `VolunteerIndex.from_arrays` takes them."""
    settlement, latitude, longitude = _places(population, rng, n)
    one = np.uint64(1)

    minority = _minority_language(population, rng, settlement)
    has_minority = minority >= 0
    # Three in four minority speakers also speak English; a few others a second language.
    english = ~has_minority | (rng.random(n) < 0.75)
    languages = np.where(english, one << np.uint64(ENGLISH), np.uint64(0))
    languages[has_minority] |= one << minority[has_minority].astype(np.uint64)
    second = rng.random(n) < 0.06
    second_bits = np.array([LANGUAGES.index(code) for code in SECOND_LANGUAGES], np.uint64)
    languages[second] |= one << second_bits[rng.integers(len(second_bits), size=second.sum())]

    skills = np.zeros(n, np.uint64)
    for bit, (name, share) in enumerate(SKILLS):
        if name == "Translation":  # mostly people who speak two languages
            share_each = np.where(has_minority & english, 0.4, share / 2)
            skills |= (rng.random(n) < share_each).astype(np.uint64) << np.uint64(bit)
        else:
            skills |= (rng.random(n) < share).astype(np.uint64) << np.uint64(bit)
    for bit, share in zip(
        range(len(SKILLS), len(SKILLS) + GROUP_SKILLS), _group_skill_shares(), strict=True
    ):
        skills |= (rng.random(n) < share).astype(np.uint64) << np.uint64(bit)

    availability = _pick(rng, AVAILABILITY_PATTERNS, n).astype(np.int64)
    scattered = availability == -1
    availability[scattered] = _random_bits(rng, int(scattered.sum()), 0.2)
    # People are not perfectly regular: now and then a slot more or less.
    said = availability != 0
    flips = _random_bits(rng, n, 0.04)
    availability[said] ^= flips[said]
    availability = availability.astype(np.uint32)

    capacity = _pick(rng, [(1, 0.30), (2, 0.55), (3, 0.15)], n).astype(np.int16)
    load = np.minimum(_pick(rng, [(0, 0.80), (1, 0.15), (2, 0.05)], n), capacity).astype(np.int16)
    recent = np.where(rng.random(n) < 0.65, 0, rng.geometric(0.35, n)).clip(0, 15)
    on_duty = np.zeros(n)
    duty = rng.random(n)
    on_duty[duty < 0.004] = NOW + rng.uniform(1, 4, int((duty < 0.004).sum())) * HOUR
    ended = (duty >= 0.004) & (duty < 0.008)
    on_duty[ended] = NOW - rng.uniform(1, 48, int(ended.sum())) * HOUR
    return {
        "ids": rng.permutation(n).astype(np.int64) + first_id,
        "latitude": latitude,
        "longitude": longitude,
        "travel_km": _pick(rng, TRAVEL_KM, n).astype(np.float32),
        "skills": skills,
        "languages": languages,
        "availability": availability,
        "capacity": capacity,
        "load": load,
        "recent_tasks": recent.astype(np.int16),
        "on_duty_until": on_duty,
        "_settlement": settlement,
    }


def _group_skill_shares() -> np.ndarray:
    """The share of volunteers with each group's own skill: 0.2 to 2 %."""
    return np.geomspace(0.02, 0.002, GROUP_SKILLS)


def _random_bits(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    bits = rng.random((n, DAYS * PARTS)) < share
    return (bits.astype(np.int64) << np.arange(DAYS * PARTS)).sum(axis=1)


@dataclass
class Requests:
    needs: list[Need]
    kind: np.ndarray  # the settlement kind (Population.KINDS) of each
    skill: np.ndarray  # bool: needs a skill
    language: np.ndarray  # bool: needs a language other than English
    window: np.ndarray  # bool: has a time window


def make_requests(
    population: Population, rng: np.random.Generator, n: int, *, first_id: int = 1
) -> Requests:
    settlement, latitude, longitude = _places(population, rng, n)
    category = rng.choice(len(CATEGORIES), size=n, p=[c[1] for c in CATEGORIES])
    group_shares = _group_skill_shares()
    group_skill = len(SKILLS) + rng.choice(
        GROUP_SKILLS, size=n, p=group_shares / group_shares.sum()
    )
    minority = _minority_language(population, rng, settlement)
    language_draw = rng.random(n)
    radius = _pick(rng, RADIUS_KM, n)
    window_kind = rng.choice(4, size=n, p=[0.45, 0.25, 0.15, 0.15])
    day = rng.integers(2, 5, size=n)  # from today (Wednesday) to Friday
    part = rng.integers(0, 3, size=n)
    needs = []
    for row in range(n):
        _name, _share, required, preferred = CATEGORIES[category[row]]
        skills = 0
        if required == "group skill":
            skills = 1 << int(group_skill[row])
        elif required:
            skills = 1 << SKILL_BIT[required]
        preferred_skills = sum(1 << SKILL_BIT[name] for name in preferred)
        # Most requests name no language; a third ask for English; those whose requester
        # speaks a minority language ask for it.
        languages = preferred_language = 0
        if minority[row] >= 0 and language_draw[row] < 0.5:
            languages = preferred_language = 1 << int(minority[row])
        elif language_draw[row] < 0.33:
            languages = preferred_language = 1 << ENGLISH
        window = 0
        if window_kind[row] == 1:  # a day
            window = _bits([(int(day[row]), p) for p in range(3)])
        elif window_kind[row] == 2:  # one part of a day
            window = availability_bit(int(day[row]), int(part[row]))
        elif window_kind[row] == 3:  # the weekend
            window = WEEKENDS
        needs.append(
            Need(
                id=first_id + row,
                latitude=float(latitude[row]),
                longitude=float(longitude[row]),
                radius_km=float(radius[row]),
                skills=skills,
                languages=languages,
                preferred_language=preferred_language,
                preferred_skills=preferred_skills & ~skills,
                window=window,
            )
        )
    english = 1 << ENGLISH
    return Requests(
        needs=needs,
        kind=population.kind[settlement],
        skill=np.array([need.skills != 0 for need in needs]),
        language=np.array([need.languages not in (0, english) for need in needs]),
        window=np.array([need.window != 0 for need in needs]),
    )


def index_columns(volunteers: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: column for name, column in volunteers.items() if not name.startswith("_")}


def describe_volunteers(population: Population, volunteers: dict[str, np.ndarray]) -> str:
    n = len(volunteers["ids"])
    kinds = np.bincount(population.kind[volunteers["_settlement"]], minlength=4) / n
    languages = volunteers["languages"]
    english = (languages >> np.uint64(ENGLISH)) & np.uint64(1)
    other = languages & ~(np.uint64(1) << np.uint64(ENGLISH))
    travel = volunteers["travel_km"]
    on_duty = (volunteers["on_duty_until"] > NOW).mean()
    full = (volunteers["load"] >= volunteers["capacity"]).mean()
    rare = volunteers["skills"] >> np.uint64(len(SKILLS))
    return (
        f"{n:,} volunteers: {kinds[0]:.0%} in {len(CITIES)} cities, {kinds[1]:.0%} in "
        f"{TOWNS:,} towns, {kinds[2]:.0%} in {VILLAGES:,} villages, {kinds[3]:.0%} in open "
        f"country; {english.mean():.0%} speak English, {(other != 0).mean():.0%} another "
        f"language; {(rare != 0).mean():.0%} have one of the {GROUP_SKILLS} rare skills; "
        f"travel {np.median(travel):.0f} km median ({((travel >= 2) & (travel <= 5)).mean():.0%} "
        f"2 to 5 km); {full:.0%} at capacity, {on_duty:.1%} on duty"
    )


def describe_requests(requests: Requests) -> str:
    n = len(requests.needs)
    kinds = np.bincount(requests.kind, minlength=4) / n
    english = 1 << ENGLISH
    in_english = sum(need.languages == english for need in requests.needs) / n
    return (
        f"{kinds[0]:.0%} in cities, {kinds[1]:.0%} in towns, {kinds[2]:.0%} in villages, "
        f"{kinds[3]:.0%} in open country; {requests.skill.mean():.0%} need a skill, "
        f"{in_english:.0%} English, {requests.language.mean():.0%} another language, "
        f"{requests.window.mean():.0%} a time window (a day, a part of a day or the weekend); "
        "radius 5 km (60 %) to 10 km"
    )


# --- Measuring. -------------------------------------------------------------------------------


def _proc_kb(key: str) -> int | None:
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _colon, value = line.partition(":")
        if name == key:
            return int(value.split()[0])
    return None


def _release_free_memory() -> None:
    """Give the memory malloc holds free back to the system (glibc), so that the resident set
    counts only memory in use and a block's growth shows in its high-water mark."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


class PeakMemory:
    """The most memory a block took above what the process held when it began: the resident
    set's high-water mark (reset through /proc/self/clear_refs, Linux), and with `trace` the
    peak of tracemalloc (Python and NumPy allocations; not what C or C++ code mallocs)."""

    def __init__(self, *, trace: bool = False) -> None:
        self.trace = trace
        self.rss: int | None = None
        self.traced: int | None = None

    def __enter__(self) -> "PeakMemory":
        gc.collect()
        _release_free_memory()
        self._rss_before = _proc_kb("VmRSS")
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            self._rss_before = None
        if self.trace:
            tracemalloc.start()
            self._traced_before = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.trace:
            self.traced = tracemalloc.get_traced_memory()[1] - self._traced_before
            tracemalloc.stop()
        high = _proc_kb("VmHWM")
        if self._rss_before is not None and high is not None:
            self.rss = (high - self._rss_before) * 1024


def faster(seconds: float, baseline: float) -> str:
    """How many times faster than the baseline."""
    return "n/a" if seconds <= 0 else f"{baseline / seconds:,.0f}x"


def mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1e6:,.1f} MB"


def percentile(values: Sequence[float] | np.ndarray, share: float) -> float:
    """By nearest rank: the value `share` of the samples are at or under."""
    ordered = np.sort(np.asarray(values))
    return float(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


def timed_calls(
    function: Callable[[Any], object], items: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds each call of `function` on each item took: on the clock, and of this thread's
    CPU time (which leaves out the time the process waited while other processes ran)."""
    seconds = np.empty(len(items))
    cpu_seconds = np.empty(len(items))
    clock, cpu_clock = time.perf_counter, time.thread_time
    for i, item in enumerate(items):
        started, cpu_started = clock(), cpu_clock()
        function(item)
        cpu_seconds[i] = cpu_clock() - cpu_started
        seconds[i] = clock() - started
    return seconds, cpu_seconds


@dataclass
class BuildResult:
    seconds: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    nbytes: int = 0
    traced: int | None = None


@dataclass
class UpdateCase:
    name: str
    volunteers: int
    seconds: list[float] = field(default_factory=list)  # per run, for all `volunteers`
    cpu_seconds: list[float] = field(default_factory=list)  # the same, in CPU time
    compactions: list[tuple[int, float]] = field(default_factory=list)  # per run: count, time

    def per_second(self) -> float:
        return self.volunteers / median(self.seconds)

    def per_cpu_second(self) -> float:
        return self.volunteers / median(self.cpu_seconds)

    def time(self, calls: Callable[[], object]) -> None:
        gc.collect()
        started, cpu_started = time.perf_counter(), time.thread_time()
        calls()
        self.cpu_seconds.append(time.thread_time() - cpu_started)
        self.seconds.append(time.perf_counter() - started)


@dataclass
class LatencyResult:
    engine: list[np.ndarray] = field(default_factory=list)  # per run, per request (seconds)
    engine_cpu: list[np.ndarray] = field(default_factory=list)  # the same, in CPU time
    after_updates: list[np.ndarray] = field(default_factory=list)
    scan_median: list[float] = field(default_factory=list)  # per run, on that run's subset
    scan_p99: list[float] = field(default_factory=list)
    engine_subset_median: list[float] = field(default_factory=list)  # the same subset
    scanned: int = 0  # requests compared with the scan, all runs together
    scanned_per_run: int = 0
    identical: int = 0  # same volunteers, same order, same scores
    found: int = 0  # volunteers of the scan's answers also in the engine's
    expected: int = 0  # volunteers in the scan's answers
    mismatches: list[str] = field(default_factory=list)
    eligible: np.ndarray | None = None  # per request


@dataclass
class BatchCase:
    requests: int
    assign_seconds: list[float] = field(default_factory=list)
    greedy_seconds: list[float] = field(default_factory=list)
    assign_cpu: list[float] = field(default_factory=list)
    greedy_cpu: list[float] = field(default_factory=list)
    assign_rss: list[int] = field(default_factory=list)
    greedy_rss: list[int] = field(default_factory=list)
    assign_traced: int | None = None
    greedy_traced: int | None = None
    assigned: AssignResult | None = None
    greedy: AssignResult | None = None
    problems: list[str] = field(default_factory=list)


def compare(got: list[Any], expected: list[tuple[int, float]]) -> tuple[bool, int]:
    """Whether the engine's candidates are the scan's (ids, order, scores to 1e-9), and how
    many of the scan's volunteers the engine found."""
    got_ids = [candidate.volunteer_id for candidate in got]
    expected_ids = [volunteer for volunteer, _score in expected]
    same = got_ids == expected_ids and all(
        abs(candidate.score - score) <= 1e-9
        for candidate, (_volunteer, score) in zip(got, expected, strict=True)
    )
    return same, len(set(got_ids) & set(expected_ids))


def scanner(index: VolunteerIndex) -> Callable[[Need], list[tuple[int, float]]]:
    """The brute-force scan of `reference`, given the index's columns once, so that its time is
    the scan's own (`reference.scan_candidates` copies every column on each call)."""
    columns = index.columns()
    return lambda need: reference.scan_columns(columns, need, K, now=NOW)


def engine_timings(index: VolunteerIndex, needs: Sequence[Need]) -> tuple[np.ndarray, np.ndarray]:
    """Seconds `candidates` takes for each need, on the clock and in CPU time."""
    gc.collect()
    return timed_calls(lambda need: index.candidates(need, K, now=NOW), needs)


def measure_latency(
    index: VolunteerIndex,
    requests: Requests,
    result: LatencyResult,
    *,
    run: int,
    runs: int,
) -> None:
    needs = requests.needs
    for need in needs[:20]:  # warm up
        index.candidates(need, K, now=NOW)
    engine, engine_cpu = engine_timings(index, needs)
    result.engine.append(engine)
    result.engine_cpu.append(engine_cpu)
    # Each run compares another slice of the requests with the scan, so that every request
    # is compared once over the runs.
    per_run = math.ceil(len(needs) / runs)
    result.scanned_per_run = per_run
    rows = np.arange(run * per_run, min(len(needs), (run + 1) * per_run))
    if not len(rows):
        rows = np.arange(min(per_run, len(needs)))
    scan = scanner(index)
    scan_seconds = np.empty(len(rows))
    for i, row in enumerate(rows.tolist()):
        need = needs[row]
        started = time.perf_counter()
        expected = scan(need)
        scan_seconds[i] = time.perf_counter() - started
        got = index.candidates(need, K, now=NOW)
        same, found = compare(got, expected)
        result.scanned += 1
        result.identical += same
        result.found += found
        result.expected += len(expected)
        if not same and len(result.mismatches) < 20:
            result.mismatches.append(
                f"need {need}: engine {[(c.volunteer_id, round(c.score, 6)) for c in got]}, "
                f"scan {[(v, round(s, 6)) for v, s in expected]}"
            )
    result.scan_median.append(float(np.median(scan_seconds)))
    result.scan_p99.append(percentile(scan_seconds, 0.99))
    result.engine_subset_median.append(float(np.median(engine[rows])))


def changed_volunteers(
    volunteers: dict[str, np.ndarray],
    population: Population,
    rng: np.random.Generator,
    rows: np.ndarray,
) -> dict[str, np.ndarray]:
    """New columns for the volunteers at `rows`: every one with new availability, load and
    a skill more or less; one in five moved nearby (up to 3 km), one in ten elsewhere."""
    n = len(rows)
    changed = {name: column[rows].copy() for name, column in index_columns(volunteers).items()}
    changed["availability"] ^= _random_bits(rng, n, 0.1).astype(np.uint32)
    changed["load"] = np.minimum(rng.integers(0, 3, n), changed["capacity"]).astype(np.int16)
    changed["skills"] ^= np.uint64(1) << rng.integers(0, len(SKILLS), n).astype(np.uint64)
    draw = rng.random(n)
    nearby = draw < 0.2
    changed["latitude"][nearby] += rng.integers(-3, 4, int(nearby.sum())) * ROUGH_DEGREES
    changed["longitude"][nearby] += rng.integers(-4, 5, int(nearby.sum())) * ROUGH_DEGREES
    far = draw > 0.9
    _settlement, latitude, longitude = _places(population, rng, int(far.sum()))
    changed["latitude"][far] = latitude
    changed["longitude"][far] = longitude
    changed["latitude"] = np.clip(changed["latitude"], SOUTH, NORTH)
    changed["longitude"] = np.clip(changed["longitude"], WEST, EAST)
    return changed


class CompactionClock:
    """Times each `compact` the index runs while this is in use (the index calls it itself
    when its unsorted tail or dead slots grow too large)."""

    def __init__(self, index: VolunteerIndex) -> None:
        self.index = index
        self.seconds = 0.0
        self.count = 0

    def __enter__(self) -> "CompactionClock":
        compact = self.index.compact

        def timed_compact() -> None:
            started = time.perf_counter()
            compact()
            self.seconds += time.perf_counter() - started
            self.count += 1

        self.index.compact = timed_compact  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self.index.compact


def measure_updates(
    index: VolunteerIndex,
    volunteers: dict[str, np.ndarray],
    population: Population,
    rng: np.random.Generator,
    cases: dict[str, UpdateCase],
) -> None:
    n = len(volunteers["ids"])
    batch_case = cases["batch"]
    batch_size = min(1000, batch_case.volunteers)
    batches = [
        changed_volunteers(
            volunteers, population, rng, rng.choice(n, size=batch_size, replace=False)
        )
        for _ in range(batch_case.volunteers // batch_size)
    ]

    def upsert_batches() -> None:
        for batch in batches:
            index.upsert_many(**batch)

    with CompactionClock(index) as compactions:
        batch_case.time(upsert_batches)
    batch_case.compactions.append((compactions.count, compactions.seconds))

    single_case = cases["single"]
    single = changed_volunteers(
        volunteers, population, rng, rng.choice(n, size=single_case.volunteers, replace=False)
    )
    singles = [
        (int(single["ids"][i]), {name: single[name][i].item() for name in single if name != "ids"})
        for i in range(single_case.volunteers)
    ]

    def upsert_singles() -> None:
        for volunteer_id, values in singles:
            index.upsert(volunteer_id, **values)

    with CompactionClock(index) as compactions:
        single_case.time(upsert_singles)
    single_case.compactions.append((compactions.count, compactions.seconds))

    load_case = cases["load"]
    loads = [
        (int(volunteer_id), int(load))
        for volunteer_id, load in zip(
            volunteers["ids"][rng.choice(n, size=load_case.volunteers, replace=False)],
            rng.integers(0, 3, load_case.volunteers),
            strict=True,
        )
    ]

    def set_loads() -> None:
        for volunteer_id, load in loads:
            index.set_load(volunteer_id, load)

    load_case.time(set_loads)


def check_assignment(
    result: AssignResult, needs: Sequence[Need], index: VolunteerIndex
) -> list[str]:
    """What is wrong with an assignment: a need served twice or neither served nor left over,
    a volunteer over their free capacity, or out of range, lacking a skill, a language or the
    window."""
    problems = []
    need_of = {need.id: need for need in needs}
    served = Counter(match.need_id for match in result.matches)
    twice = [need_id for need_id, count in served.items() if count > 1]
    if twice:
        problems.append(f"{len(twice)} needs served more than once, e.g. {twice[:5]}")
    missing = set(need_of) - set(served) - set(result.leftovers)
    if missing:
        problems.append(f"{len(missing)} needs neither served nor left over")
    if not result.matches:
        return problems
    columns = index.columns()
    order = np.argsort(columns["ids"])
    ids = np.array([match.volunteer_id for match in result.matches])
    rows = order[np.searchsorted(columns["ids"], ids, sorter=order)]
    if not np.array_equal(columns["ids"][rows], ids):
        problems.append("matches name volunteers the index does not hold")
        return problems
    taken = Counter(ids.tolist())
    free = {
        int(volunteer): int(columns["capacity"][row]) - int(columns["load"][row])
        for volunteer, row in zip(ids.tolist(), rows.tolist(), strict=True)
    }
    over = [volunteer for volunteer, count in taken.items() if count > free[volunteer]]
    if over:
        problems.append(f"{len(over)} volunteers over capacity, e.g. {over[:5]}")
    wrong = 0
    for match, row in zip(result.matches, rows.tolist(), strict=True):
        need = need_of[match.need_id]
        reach = min(need.radius_km, float(columns["travel_km"][row]))
        skills, languages = int(columns["skills"][row]), int(columns["languages"][row])
        availability = int(columns["availability"][row])
        if (
            match.distance_km > reach + 1e-9
            or skills & need.skills != need.skills
            or (need.languages and not languages & need.languages)
            or (need.window and not availability & need.window)
        ):
            wrong += 1
    if wrong:
        problems.append(f"{wrong} matches out of range or missing a skill, language or window")
    return problems


def measure_batch(
    index: VolunteerIndex, requests: Requests, case: BatchCase, *, first: bool
) -> None:
    needs = requests.needs
    with PeakMemory() as memory:
        started, cpu_started = time.perf_counter(), time.thread_time()
        assigned = assign(needs, index, now=NOW)
        case.assign_cpu.append(time.thread_time() - cpu_started)
        case.assign_seconds.append(time.perf_counter() - started)
    if memory.rss is not None:
        case.assign_rss.append(memory.rss)
    with PeakMemory() as memory:
        started, cpu_started = time.perf_counter(), time.thread_time()
        greedy = reference.assign_greedy(needs, index, now=NOW)
        case.greedy_cpu.append(time.thread_time() - cpu_started)
        case.greedy_seconds.append(time.perf_counter() - started)
    if memory.rss is not None:
        case.greedy_rss.append(memory.rss)
    if first:
        case.assigned, case.greedy = assigned, greedy
        case.problems = check_assignment(assigned, needs, index)
    elif (assigned.served, round(assigned.total_distance_km, 6)) != (
        case.assigned.served,  # type: ignore[union-attr]
        round(case.assigned.total_distance_km, 6),  # type: ignore[union-attr]
    ):
        case.problems.append("assign gave a different answer in another run")


# --- The report. ------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    measured: str
    passed: bool | None  # None: not measured at the target's size


def verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "**FAIL**", None: "not at target size"}[passed]


def build_targets(
    args: argparse.Namespace,
    build: BuildResult,
    updates: dict[str, UpdateCase],
    latency: LatencyResult,
    batch: list[BatchCase],
) -> list[Target]:
    full = args.volunteers == 1_000_000
    engine = np.concatenate(latency.engine)
    p99 = median([percentile(run, 0.99) for run in latency.engine])
    speedup = median(latency.scan_median) / median(latency.engine_subset_median)
    targets = [
        Target(
            "Single request, top 20: p99 ≤ 2 ms at 1,000,000 volunteers",
            f"{ms(p99)} ms (median {ms(median([float(np.median(r)) for r in latency.engine]))} "
            f"ms; p99 of CPU time {ms(median([percentile(r, 0.99) for r in latency.engine_cpu]))} "
            f"ms; {ms(percentile(np.min(np.stack(latency.engine), axis=0), 0.99))} ms taking "
            f"each request's fastest run; {len(engine):,} timings)",
            p99 <= 0.002 if full else None,
        ),
        Target(
            "Single request: median ≥ 100x faster than the scan",
            f"{speedup:,.0f}x",
            speedup >= 100 if full else None,
        ),
        Target(
            "Single request: recall against the scan 100 %",
            f"{100 * latency.found / max(latency.expected, 1):.2f} % ({latency.identical:,} of "
            f"{latency.scanned:,} answers identical)",
            latency.found == latency.expected and latency.identical == latency.scanned,
        ),
        Target(
            "Index build ≤ 2 s for 1,000,000 volunteers",
            f"{median(build.seconds):.2f} s",
            median(build.seconds) <= 2.0 if full else None,
        ),
        Target(
            "Index memory ≤ 150 MB for 1,000,000 volunteers",
            f"{mb(build.nbytes)} held (peak while building {mb(build.traced)} traced, "
            f"{mb(max(build.rss) if build.rss else None)} RSS)",
            build.nbytes <= 150e6 if full else None,
        ),
    ]
    for key, case in updates.items():
        if key == "load":  # not an update of what matching knows of a volunteer's profile
            continue
        targets.append(
            Target(
                f"Updates ≥ 10,000 volunteers a second: {case.name}",
                f"{case.per_second():,.0f} a second ({case.per_cpu_second():,.0f} a second of "
                "CPU time)",
                case.per_second() >= 10_000 if full else None,
            )
        )
    limits = {10_000: 5.0, 100_000: 60.0}
    for case in batch:
        limit = limits.get(case.requests)
        at_size = args.batch_volunteers == 100_000 and limit is not None
        seconds = median(case.assign_seconds)
        assigned, greedy = case.assigned, case.greedy
        assert assigned is not None
        assert greedy is not None
        targets.append(
            Target(
                f"Batch {case.requests:,} requests over {args.batch_volunteers:,} volunteers"
                + (f" ≤ {limit:.0f} s" if limit else " (no target for this size)"),
                f"{seconds:.2f} s (CPU time {median(case.assign_cpu):.2f} s)",
                seconds <= limit if at_size and limit else None,
            )
        )
        targets.append(
            Target(
                f"Batch {case.requests:,}: serves ≥ greedy with no more total distance",
                f"{assigned.served:,} served, {assigned.total_distance_km:,.0f} km; greedy "
                f"{greedy.served:,}, {greedy.total_distance_km:,.0f} km",
                assigned.served > greedy.served
                or (
                    assigned.served == greedy.served
                    and assigned.total_distance_km <= greedy.total_distance_km + 1e-6
                ),
            )
        )
    return targets


def latency_rows(latency: LatencyResult, requests: Requests) -> list[list[str]]:
    """Median and p99 of the engine per kind of request (each run's own, then the median)."""
    groups: list[tuple[str, np.ndarray]] = [("All", np.ones(len(requests.needs), np.bool_))]
    for code, name in enumerate(Population.KINDS):
        groups.append((f"in a {name}" if code < 3 else "in open country", requests.kind == code))
    groups += [
        ("needing a skill", requests.skill),
        ("needing a language other than English", requests.language),
        ("with a time window", requests.window),
        (
            "needing a skill, with a window",
            requests.skill & requests.window,
        ),
    ]
    if latency.eligible is not None:
        groups.append(("fewer than 20 eligible", latency.eligible < K))
    rows = []
    for name, chosen in groups:
        if not chosen.any():
            continue
        runs = [run[chosen] for run in latency.engine]
        rows.append(
            [
                name,
                f"{int(chosen.sum()):,}",
                ms(median([float(np.median(run)) for run in runs])),
                ms(median([percentile(run, 0.99) for run in runs])),
                ms(median([float(run.max()) for run in runs])),
            ]
        )
    return rows


def build_section(
    *,
    args: argparse.Namespace,
    started: datetime,
    facts: dict[str, str],
    build: BuildResult,
    updates: dict[str, UpdateCase],
    latency: LatencyResult,
    requests: Requests,
    batch: list[BatchCase],
    targets: list[Target],
    batch_facts: str,
) -> str:
    command = " ".join([".venv/bin/python", "benchmarks/matching.py", *map(shlex.quote, args.argv)])
    lines = [
        "## Matching engine: results",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC with `{command}` ({args.runs} runs"
        f"{', quick' if args.quick else ''}; every figure is the median of the runs).",
        "",
    ]
    lines += [f"- {key}: {value}" for key, value in facts.items()]

    lines += ["", "### Targets", ""]
    lines.append(
        table(
            ["Target", "Measured", "Result"],
            [[t.name, t.measured, verdict(t.passed)] for t in targets],
        )
    )

    n = args.volunteers
    build_rows = [
        [
            f"`VolunteerIndex.from_arrays`, {n:,} volunteers",
            f"{median(build.seconds):.3f} s",
            f"{n / median(build.seconds):,.0f}",
            f"{mb(build.nbytes)} held; peak {mb(build.traced)} traced, "
            f"{mb(max(build.rss) if build.rss else None)} RSS",
        ]
    ]
    for case in updates.values():
        seconds = median(case.seconds)
        compacted = ""
        if case.compactions:
            count = sum(count for count, _seconds in case.compactions)
            spent = sum(spent for _count, spent in case.compactions)
            compacted = (
                f"; {count} compactions in {len(case.compactions)} runs, "
                f"{spent / len(case.compactions):.3f} s a run"
            )
        build_rows.append(
            [
                case.name,
                f"{seconds:.3f} s, CPU {median(case.cpu_seconds):.3f} s "
                f"({seconds / case.volunteers * 1e6:,.1f} µs each{compacted})",
                f"{case.per_second():,.0f} ({case.per_cpu_second():,.0f} of CPU time)",
                "",
            ]
        )
    lines += [
        "",
        f"### Building and changing the index ({n:,} volunteers)",
        "",
        "Peak memory is above what the process held before: tracemalloc's peak (Python and "
        "NumPy allocations, in a run of its own) and the growth of the resident set's "
        "high-water mark (each timed run; it includes the index itself). Updates: calls of "
        "`upsert_many` of changed volunteers (new availability, load and a skill each; one in "
        "five moved up to 3 km, one in ten to another place), then single `upsert` calls with "
        "the same kind of changes, then `set_load`, on the index just measured; any "
        "compaction they trigger is in the time.",
        "",
        table(["Operation", "Time", "Volunteers a second", "Memory"], build_rows, "lrrl"),
    ]

    engine_all = np.concatenate(latency.engine)
    scan_row = [
        "Brute-force scan (`reference`), same filters",
        f"{latency.scanned_per_run:,} a run",
        ms(median(latency.scan_median)),
        ms(median(latency.scan_p99)),
        "1x",
    ]
    engine_row = [
        "`VolunteerIndex.candidates`",
        f"{len(requests.needs):,} a run",
        ms(median([float(np.median(run)) for run in latency.engine])),
        ms(median([percentile(run, 0.99) for run in latency.engine])),
        faster(median(latency.engine_subset_median), median(latency.scan_median)),
    ]
    rows = [scan_row, engine_row]
    cpu = latency.engine_cpu
    rows.append(
        [
            "`VolunteerIndex.candidates`, CPU time (leaves out waiting for a CPU)",
            f"{len(requests.needs):,} a run",
            ms(median([float(np.median(run)) for run in cpu])),
            ms(median([percentile(run, 0.99) for run in cpu])),
            "",
        ]
    )
    if len(latency.engine) > 1:
        fastest = np.min(np.stack(latency.engine), axis=0)
        rows.append(
            [
                f"`VolunteerIndex.candidates`, each request's fastest of the {len(latency.engine)} "
                "runs",
                f"{len(requests.needs):,}",
                ms(float(np.median(fastest))),
                ms(percentile(fastest, 0.99)),
                faster(float(np.median(fastest)), median(latency.scan_median)),
            ]
        )
    if latency.after_updates:
        rows.append(
            [
                "`VolunteerIndex.candidates` after the updates",
                f"{len(requests.needs):,} a run",
                ms(median([float(np.median(run)) for run in latency.after_updates])),
                ms(median([percentile(run, 0.99) for run in latency.after_updates])),
                faster(
                    median([float(np.median(run)) for run in latency.after_updates]),
                    median(latency.scan_median),
                ),
            ]
        )
    eligible = latency.eligible
    eligible_text = ""
    if eligible is not None:
        eligible_text = (
            f" Eligible volunteers per request: median {np.median(eligible):,.0f}; "
            f"{(eligible == 0).mean():.1%} of requests have none and "
            f"{(eligible < K).mean():.1%} fewer than {K}."
        )
    recall = 100 * latency.found / max(latency.expected, 1)
    lines += [
        "",
        f"### One request, top {K} ({n:,} volunteers)",
        "",
        f"The same {len(requests.needs):,} requests in every run: {describe_requests(requests)}."
        f"{eligible_text} Each run also scans a different {latency.scanned_per_run:,} of them "
        "by brute force (`reference`'s scan of every volunteer, given the columns once, so it "
        "is not charged for copying them) and compares every answer with the engine's; 'times "
        "faster' divides the scan's median by the engine's over those same requests, in the "
        f"same run. {len(engine_all):,} timings in all. CPU time is this thread's: it leaves out "
        "the time the process waited while other processes had the CPUs.",
        "",
        table(
            ["Search", "Requests", "Median ms", "p99 ms", "Times faster than the scan"],
            rows,
            "lrrrr",
        ),
        "",
        f"Recall against the scan: {recall:.2f} % ({latency.found:,} of {latency.expected:,} "
        f"volunteers); {latency.identical:,} of {latency.scanned:,} answers identical (the "
        "same volunteers in the same order with the same scores).",
    ]
    if latency.mismatches:
        lines += ["", "Answers that differ from the scan (first 20):", ""]
        lines += [f"- {mismatch}" for mismatch in latency.mismatches]
    lines += [
        "",
        "The engine's latency by kind of request:",
        "",
        table(
            ["Requests", "How many", "Median ms", "p99 ms", "Slowest ms"],
            latency_rows(latency, requests),
            "lrrrr",
        ),
    ]

    batch_rows = []
    for case in batch:
        assert case.assigned is not None
        assert case.greedy is not None
        for name, result, seconds, cpu, rss, traced in (
            (
                "`reference.assign_greedy` (nearest first)",
                case.greedy,
                case.greedy_seconds,
                case.greedy_cpu,
                case.greedy_rss,
                case.greedy_traced,
            ),
            (
                "`assign`",
                case.assigned,
                case.assign_seconds,
                case.assign_cpu,
                case.assign_rss,
                case.assign_traced,
            ),
        ):
            batch_rows.append(
                [
                    f"{case.requests:,}",
                    name,
                    f"{median(seconds):.2f}",
                    f"{median(cpu):.2f}",
                    f"{result.served:,}",
                    f"{result.total_distance_km:,.0f}",
                    f"{result.total_distance_km / max(result.served, 1):.2f}",
                    mb(traced),
                    mb(max(rss) if rss else None),
                    ratio(median(seconds), median(case.greedy_seconds)),
                ]
            )
    reason_rows = []
    for case in batch:
        assert case.assigned is not None
        assert case.greedy is not None
        for name, result in (("greedy", case.greedy), ("`assign`", case.assigned)):
            reasons = Counter(str(reason) for reason in result.leftovers.values())
            reason_rows.append(
                [
                    f"{case.requests:,}",
                    name,
                    *[
                        f"{reasons.get(reason, 0):,}"
                        for reason in (
                            "nobody_in_range",
                            "no_skill_or_language",
                            "not_available",
                            "at_capacity",
                        )
                    ],
                ]
            )
    problems = [f"- {case.requests:,}: {p}" for case in batch for p in case.problems]
    lines += [
        "",
        f"### Batch assignment ({args.batch_volunteers:,} volunteers)",
        "",
        f"{batch_facts} Requests drawn as above, in random order (the order greedy takes them "
        "in). Peak memory above what the process held before: tracemalloc in a run of its own "
        "(Python and NumPy allocations) and the growth of the resident "
        "set's high-water mark (the largest over the timed runs). 'vs greedy' compares the "
        "times.",
        "",
        table(
            [
                "Requests",
                "Method",
                "Seconds",
                "CPU seconds",
                "Served",
                "Total km",
                "km per match",
                "Peak traced",
                "Peak RSS",
                "vs greedy",
            ],
            batch_rows,
            "llrrrrrrrr",
        ),
        "",
        "Requests left over, by the reason given:",
        "",
        table(
            [
                "Requests",
                "Method",
                "Nobody in range",
                "No skill or language",
                "Not available",
                "At capacity",
            ],
            reason_rows,
            "llrrrr",
        ),
        "",
        "Every assignment checked: each request served once at most or left over, no volunteer "
        "over their free capacity, every match in range with the skill, language and window."
        if not problems
        else "Problems found in the assignments:\n\n" + "\n".join(problems),
    ]
    return "\n".join(lines) + "\n"


def write_report(path: Path, section: str) -> None:
    """Replace the matching section of the file (or add it at the end), keeping the rest."""
    start, end = f"<!-- results: {MARKER} -->", f"<!-- end results: {MARKER} -->"
    block = f"{start}\n{section}{end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


# --- The run. ---------------------------------------------------------------------------------


def _machine() -> str:
    model = "unknown"
    memory = "RAM unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), {memory}"


def _engine_version() -> str:
    """The commit the engine was read from, and whether its files had changed since."""
    try:
        commit = subprocess.run(
            ["git", "log", "-1", "--format=%h %s", "--", "src/mutualaid/matching"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "src/mutualaid/matching"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return f"`{commit}`" + (" with uncommitted changes" if changed else "")


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and 2 runs")
    parser.add_argument("--runs", type=int, help="runs of each measurement (default 5, quick 2)")
    parser.add_argument("--batch-runs", type=int, help="runs of the batch (default: --runs)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the made-up data")
    parser.add_argument("--volunteers", type=int, help="default 1,000,000 (quick 20,000)")
    parser.add_argument(
        "--latency-requests", type=int, help="single requests a run (default 3,000, quick 300)"
    )
    parser.add_argument("--batch-volunteers", type=int, help="default 100,000 (quick 5,000)")
    parser.add_argument(
        "--requests", help="batch sizes, comma-separated (default 10000,100000; quick 500,2000)"
    )
    parser.add_argument(
        "--output",
        help="the Markdown file to record the results in, or - to only print them (default "
        "docs/benchmarks.md; with --quick, -)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.argv = argv
    args.runs = args.runs or (2 if quick else 5)
    args.batch_runs = args.batch_runs or args.runs
    args.volunteers = args.volunteers or (20_000 if quick else 1_000_000)
    args.latency_requests = args.latency_requests or (300 if quick else 3000)
    args.batch_volunteers = args.batch_volunteers or (5_000 if quick else 100_000)
    try:
        sizes = args.requests or ("500,2000" if quick else "10000,100000")
        args.requests = [int(size) for size in sizes.split(",")]
    except ValueError:
        parser.error("--requests must be numbers separated by commas")
    args.output = args.output or ("-" if quick else str(DEFAULT_OUTPUT))
    if not 1 <= args.runs <= 50 or not 1 <= args.batch_runs <= 50:
        parser.error("--runs and --batch-runs must be between 1 and 50")
    if min(args.volunteers, args.batch_volunteers, args.latency_requests, *args.requests) < 1:
        parser.error("sizes must be at least 1")
    return args


def run(args: argparse.Namespace) -> tuple[str, bool]:
    """The report, and whether every answer of the engine was right."""
    started = datetime.now(UTC)
    load_before = _load_average()
    engine_version = _engine_version()
    clock = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    population = make_population(np.random.default_rng([args.seed, 0]))
    say(f"Making {args.volunteers:,} volunteers and {args.latency_requests:,} requests")
    volunteers = make_volunteers(population, np.random.default_rng([args.seed, 1]), args.volunteers)
    requests = make_requests(
        population, np.random.default_rng([args.seed, 2]), args.latency_requests
    )
    columns = index_columns(volunteers)
    volunteer_facts = describe_volunteers(population, volunteers)

    build = BuildResult()
    update_size = min(200_000, args.volunteers // 5)
    updates = {
        "batch": UpdateCase(
            f"`upsert_many`, {update_size // min(1000, update_size):,} batches of "
            f"{min(1000, update_size):,} changed volunteers",
            update_size // min(1000, update_size) * min(1000, update_size),
        ),
        "single": UpdateCase(
            "`upsert`, one volunteer a call", min(20_000, max(1, args.volunteers // 10))
        ),
        "load": UpdateCase("`set_load`, one volunteer a call", min(10_000, args.volunteers)),
    }
    latency = LatencyResult()

    say("Building the index once with tracemalloc on")
    with PeakMemory(trace=True) as memory:
        index = VolunteerIndex.from_arrays(**columns)
    build.traced = memory.traced
    build.nbytes = index.nbytes
    latency.eligible = np.array(
        [index.count_eligible(need, now=NOW) for need in requests.needs], dtype=np.int64
    )
    del index
    for run_number in range(args.runs):
        gc.collect()
        with PeakMemory() as memory:
            started_build = time.perf_counter()
            index = VolunteerIndex.from_arrays(**columns)
            build.seconds.append(time.perf_counter() - started_build)
        if memory.rss is not None:
            build.rss.append(memory.rss)
        say(
            f"Run {run_number + 1}/{args.runs}: built in {build.seconds[-1]:.2f} s; "
            "single requests and the scan"
        )
        measure_latency(index, requests, latency, run=run_number, runs=args.runs)
        say(f"Run {run_number + 1}/{args.runs}: updates")
        measure_updates(index, volunteers, population, rng, updates)
        gc.collect()
        latency.after_updates.append(engine_timings(index, requests.needs)[0])
        del index
    say(
        f"Recall {latency.found:,} of {latency.expected:,}; "
        f"{latency.identical:,} of {latency.scanned:,} identical"
    )
    for mismatch in latency.mismatches:
        say(f"MISMATCH {mismatch}")
    del volunteers, columns

    say(f"Batch: {args.batch_volunteers:,} volunteers")
    batch_volunteers = make_volunteers(
        population, np.random.default_rng([args.seed, 3]), args.batch_volunteers
    )
    batch_index = VolunteerIndex.from_arrays(**index_columns(batch_volunteers))
    batch_facts = describe_volunteers(population, batch_volunteers) + "."
    del batch_volunteers
    batch = []
    for size in args.requests:
        case = BatchCase(size)
        batch_requests = make_requests(
            population, np.random.default_rng([args.seed, 4, size]), size
        )
        for run_number in range(args.batch_runs):
            measure_batch(batch_index, batch_requests, case, first=run_number == 0)
            assert case.assigned is not None
            assert case.greedy is not None
            say(
                f"Batch {size:,}, run {run_number + 1}/{args.batch_runs}: assign "
                f"{case.assign_seconds[-1]:.2f} s, greedy {case.greedy_seconds[-1]:.2f} s; "
                f"served {case.assigned.served:,} against {case.greedy.served:,}"
            )
        with PeakMemory(trace=True) as memory:
            assign(batch_requests.needs, batch_index, now=NOW)
        case.assign_traced = memory.traced
        with PeakMemory(trace=True) as memory:
            reference.assign_greedy(batch_requests.needs, batch_index, now=NOW)
        case.greedy_traced = memory.traced
        for problem in case.problems:
            say(f"PROBLEM (batch {size:,}): {problem}")
        batch.append(case)

    facts = {
        "Machine": f"{_machine()}; load average before the run {load_before}, after "
        f"{_load_average()}",
        "Software": f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy "
        f"{scipy.__version__}, {platform.system()} {platform.release()}",
        "Engine": engine_version,
        "Volunteers": f"{volunteer_facts}. Homes "
        "rounded to 0.01 degrees, as the product stores them",
        "Whole run": f"{time.perf_counter() - clock:,.0f} s",
    }
    targets = build_targets(args, build, updates, latency, batch)
    section = build_section(
        args=args,
        started=started,
        facts=facts,
        build=build,
        updates=updates,
        latency=latency,
        requests=requests,
        batch=batch,
        targets=targets,
        batch_facts=batch_facts,
    )
    right = latency.found == latency.expected and latency.identical == latency.scanned
    right = right and not any(case.problems for case in batch)
    return section, right


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    section, right = run(args)
    print(section)
    if args.output != "-":
        write_report(Path(args.output), section)
        say(f"Recorded in {args.output}")
    if not right:
        say("The engine gave wrong answers: see the report")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
