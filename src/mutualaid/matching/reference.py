"""Slow, obviously correct counterparts of the engine, for tests and benchmarks to compare with.

`scan_candidates` checks every volunteer with the same rules as `VolunteerIndex.candidates`;
`assign_greedy` gives each need in turn the nearest eligible volunteer who still has room.
"""

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mutualaid.matching.index import VolunteerIndex
from mutualaid.matching.scoring import distances_km, scores
from mutualaid.matching.types import AssignResult, Match, Need, Reason


def scan_candidates(
    index: VolunteerIndex,
    need: Need,
    k: int,
    *,
    now: float = 0.0,
    exclude: Collection[int] = (),
) -> list[tuple[int, float]]:
    """(volunteer id, score) of the k best volunteers, by a scan of every volunteer."""
    return scan_columns(index.columns(), need, k, now=now, exclude=exclude)


def scan_columns(
    columns: dict[str, NDArray[Any]],
    need: Need,
    k: int,
    *,
    now: float = 0.0,
    exclude: Collection[int] = (),
) -> list[tuple[int, float]]:
    """As `scan_candidates`, over columns taken once from `VolunteerIndex.columns`, so that a
    benchmark times the scan alone."""
    skills, languages = columns["skills"], columns["languages"]
    fits = (skills & np.uint64(need.skills)) == np.uint64(need.skills)
    if need.languages:
        fits &= (languages & np.uint64(need.languages)) != 0
    if need.window:
        fits &= (columns["availability"] & np.uint32(need.window)) != 0
    fits &= columns["load"] < columns["capacity"]
    fits &= ~np.isin(columns["ids"], np.fromiter(exclude, np.int64))
    distance = distances_km(
        need.latitude, need.longitude, columns["latitude"], columns["longitude"]
    )
    fits &= distance <= np.minimum(
        np.float64(need.radius_km), columns["travel_km"], dtype=np.float64
    )
    lacks_language = (
        (languages & np.uint64(need.preferred_language)) == 0
        if need.preferred_language
        else np.zeros(len(fits), np.bool_)
    )
    missing = np.bitwise_count(~skills & np.uint64(need.preferred_skills))
    score = scores(distance, columns["recent_tasks"], lacks_language, missing)
    off_duty = columns["on_duty_until"] <= now
    chosen = np.flatnonzero(fits)
    order = np.lexsort((columns["ids"][chosen], score[chosen], off_duty[chosen]))[:k]
    return [(int(columns["ids"][i]), float(score[i])) for i in chosen[order]]


def assign_greedy(
    needs: Sequence[Need], index: VolunteerIndex, *, now: float = 0.0
) -> AssignResult:
    """Each need in the order given takes the nearest eligible volunteer with room left."""
    result = AssignResult()
    taken: dict[int, int] = {}
    for need in needs:
        match = None
        reach = 8
        while match is None:
            ids, distance = index.nearest(need, reach, now=now)
            free = index.free_capacity(ids) - np.array([taken.get(int(i), 0) for i in ids])
            room = np.flatnonzero(free > 0)
            if len(room):
                match = Match(need.id, int(ids[room[0]]), float(distance[room[0]]))
            elif len(ids) < reach:
                break
            else:
                reach *= 4
        if match is None:
            result.leftovers[need.id] = index.leftover_reason(need, now=now) or Reason.AT_CAPACITY
        else:
            taken[match.volunteer_id] = taken.get(match.volunteer_id, 0) + 1
            result.matches.append(match)
    return result
