"""The engine's rules written again in plain Python, one volunteer at a time, for the tests to
compare the index with. Only the great-circle distance is borrowed from the engine (a formula
checked on its own in `test_index_api`), so that a volunteer exactly on the edge of a radius is
judged the same way on both sides."""

import math
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from mutualaid.matching import (
    LANGUAGE_KM,
    RECENT_TASK_KM,
    RECENT_TASKS_COUNTED,
    SKILL_KM,
    Need,
    Reason,
    VolunteerIndex,
)
from mutualaid.matching import index as index_module
from mutualaid.matching.scoring import EARTH_RADIUS_KM, distances_km


@dataclass(frozen=True)
class Volunteer:
    id: int
    latitude: float
    longitude: float
    travel_km: float
    skills: int = 0
    languages: int = 0
    availability: int = 0
    capacity: int = 1
    load: int = 0
    recent_tasks: int = 0
    on_duty_until: float = 0.0

    def values(self) -> dict[str, Any]:
        """Keyword arguments for `VolunteerIndex.upsert`."""
        values = asdict(self)
        del values["id"]
        return values

    def held(self) -> dict[str, Any]:
        """What `VolunteerIndex.volunteer` should answer: travel is kept in single precision."""
        return {"ids": self.id, **self.values(), "travel_km": stored_travel(self.travel_km)}


def stored_travel(travel_km: float) -> float:
    return float(np.float32(travel_km))


def columns_of(volunteers: Iterable[Volunteer]) -> dict[str, list[Any]]:
    """Keyword arguments for `VolunteerIndex.from_arrays` and `upsert_many`."""
    volunteers = list(volunteers)
    columns: dict[str, list[Any]] = {"ids": [volunteer.id for volunteer in volunteers]}
    for field in fields(Volunteer):
        if field.name != "id":
            columns[field.name] = [getattr(volunteer, field.name) for volunteer in volunteers]
    return columns


def index_of(volunteers: Iterable[Volunteer]) -> VolunteerIndex:
    return VolunteerIndex.from_arrays(**columns_of(volunteers))


def with_load(volunteer: Volunteer, load: int) -> Volunteer:
    return replace(volunteer, load=load)


def km_north(kilometres: float) -> float:
    """Degrees of latitude that make `kilometres`."""
    return math.degrees(kilometres / EARTH_RADIUS_KM)


@contextmanager
def searching(*, in_stages: bool) -> Iterator[None]:
    """Where few volunteers are near a need the index looks at its whole radius at once, so
    with the few volunteers of a test it would never widen its search in stages: with
    `in_stages`, it does so whatever their number."""
    few = index_module.FEW_ENOUGH_TO_CHECK_ALL
    if in_stages:
        index_module.FEW_ENOUGH_TO_CHECK_ALL = -1
    try:
        yield
    finally:
        index_module.FEW_ENOUGH_TO_CHECK_ALL = few


def distance(need: Need, volunteer: Volunteer) -> float:
    return float(
        distances_km(
            need.latitude,
            need.longitude,
            np.array([volunteer.latitude]),
            np.array([volunteer.longitude]),
        )[0]
    )


def in_range(need: Need, volunteer: Volunteer) -> bool:
    away = distance(need, volunteer)
    return away <= need.radius_km and away <= stored_travel(volunteer.travel_km)


def speaks_and_can(need: Need, volunteer: Volunteer) -> bool:
    has_skills = volunteer.skills & need.skills == need.skills
    speaks = not need.languages or bool(volunteer.languages & need.languages)
    return has_skills and speaks


def available(need: Need, volunteer: Volunteer) -> bool:
    return not need.window or bool(volunteer.availability & need.window)


def has_room(volunteer: Volunteer) -> bool:
    return volunteer.load < volunteer.capacity


def eligible(need: Need, volunteer: Volunteer, exclude: Collection[int] = ()) -> bool:
    return (
        volunteer.id not in exclude
        and in_range(need, volunteer)
        and speaks_and_can(need, volunteer)
        and available(need, volunteer)
        and has_room(volunteer)
    )


def on_duty(volunteer: Volunteer, now: float) -> bool:
    return volunteer.on_duty_until > now


def score(need: Need, volunteer: Volunteer) -> float:
    lacks_language = bool(need.preferred_language) and not (
        volunteer.languages & need.preferred_language
    )
    missing_skills = (need.preferred_skills & ~volunteer.skills).bit_count()
    return (
        distance(need, volunteer)
        + RECENT_TASK_KM * min(volunteer.recent_tasks, RECENT_TASKS_COUNTED)
        + LANGUAGE_KM * lacks_language
        + SKILL_KM * missing_skills
    )


def ranked(
    volunteers: Iterable[Volunteer],
    need: Need,
    k: int,
    *,
    now: float,
    exclude: Collection[int] = (),
) -> list[tuple[int, float]]:
    """(id, score) of the k best eligible volunteers: on duty first, then score, then id."""
    fitting = [volunteer for volunteer in volunteers if eligible(need, volunteer, exclude)]
    keyed = sorted(
        (not on_duty(volunteer, now), score(need, volunteer), volunteer.id) for volunteer in fitting
    )
    return [(volunteer_id, value) for _off_duty, value, volunteer_id in keyed[: max(k, 0)]]


def reason(
    volunteers: Iterable[Volunteer], need: Need, exclude: Collection[int] = ()
) -> Reason | None:
    """The first rule, in the documented order, that leaves nobody; None if somebody fits."""
    left = [v for v in volunteers if v.id not in exclude and in_range(need, v)]
    if not left:
        return Reason.NOBODY_IN_RANGE
    left = [v for v in left if speaks_and_can(need, v)]
    if not left:
        return Reason.NO_SKILL_OR_LANGUAGE
    left = [v for v in left if available(need, v)]
    if not left:
        return Reason.NOT_AVAILABLE
    if not any(has_room(v) for v in left):
        return Reason.AT_CAPACITY
    return None
