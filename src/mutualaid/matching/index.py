"""The volunteer index: every volunteer as one row of a set of NumPy columns, found by grid cell.

Rows live in slots. Slots ``[0, base)`` are sorted by grid cell (rows of 0.01 degrees of
latitude, each cut into 0.01 degrees of longitude, numbered row by row), so the volunteers of one
row of cells between two longitudes are one contiguous slice, found with a binary search.
Volunteers added or moved since the last compaction sit unsorted in slots ``[base, size)`` and
are checked one by one; a removed or moved volunteer's old slot is only marked dead. When the
unsorted tail or the dead slots grow past a share of the index, `compact` sorts everything again.

`candidates` looks in widening boxes around the need (an eighth, a quarter, half and all of its
radius) and stops as soon as it holds k eligible volunteers whose scores no one farther away
could beat: every score is at least the distance (see `scoring`). Volunteers on duty rank
first, so they are few and kept apart in a set that every search checks whole.
"""

import math
from collections.abc import Collection, Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mutualaid.matching.scoring import EARTH_RADIUS_KM, distances_km, scores
from mutualaid.matching.types import Candidate, Need, Reason

CELL_DEGREES = 0.01
_ROWS_OFFSET = 9_001
_COLUMNS_OFFSET = 18_001
_COLUMNS_PER_ROW = 36_003

# Column name, dtype, value when the caller gives none.
_COLUMNS: list[tuple[str, Any, Any]] = [
    ("ids", np.int64, None),
    ("latitude", np.float64, None),
    ("longitude", np.float64, None),
    ("skills", np.uint64, 0),
    ("languages", np.uint64, 0),
    ("availability", np.uint32, 0),
    ("travel_km", np.float32, None),
    ("capacity", np.int16, 1),
    ("load", np.int16, 0),
    ("recent_tasks", np.int16, 0),
    ("on_duty_until", np.float64, 0.0),
]
_GIVEN = [name for name, _dtype, _default in _COLUMNS]

SEARCH_STAGES = (0.125, 0.25, 0.5, 1.0)
FEW_ENOUGH_TO_CHECK_ALL = 2048
UNSORTED_SHARE = 1 / 32
UNSORTED_AT_LEAST = 4096


def cell_keys(latitude: NDArray[np.float64], longitude: NDArray[np.float64]) -> NDArray[np.int64]:
    rows = np.floor(latitude / CELL_DEGREES).astype(np.int64) + _ROWS_OFFSET
    columns = np.floor(longitude / CELL_DEGREES).astype(np.int64) + _COLUMNS_OFFSET
    return rows * _COLUMNS_PER_ROW + columns


def _concatenated_ranges(starts: NDArray[np.int64], ends: NDArray[np.int64]) -> NDArray[np.int64]:
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, np.int64)
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + offsets


class VolunteerIndex:
    """Volunteers by location, skills (bits), languages (bits), weekly availability (bits),
    how far each will travel, how many tasks they hold and can hold, and how many they took
    recently. Times (``on_duty_until``, ``now``) are seconds since the epoch."""

    def __init__(self) -> None:
        self._size = 0
        self._base = 0
        self._dead = 0
        self._columns: dict[str, NDArray[Any]] = {
            name: np.empty(0, dtype) for name, dtype, _default in _COLUMNS
        }
        self._alive = np.empty(0, np.bool_)
        self._cells = np.empty(0, np.int64)
        self._slot_of_id = np.empty(0, np.int32)
        self._on_duty: set[int] = set()
        self._on_duty_array: NDArray[np.int64] | None = None

    # Building and changing

    @classmethod
    def from_arrays(cls, **columns: ArrayLike) -> "VolunteerIndex":
        """An index of the volunteers given as columns (see `upsert_many`)."""
        index = cls()
        values = _validated(columns)
        cells = cell_keys(values["latitude"], values["longitude"])
        order = np.argsort(cells, kind="stable")
        index._install({name: values[name][order] for name in _GIVEN}, cells[order])
        return index

    def upsert(self, volunteer_id: int, **values: Any) -> None:
        """Add a volunteer, or replace everything known about one."""
        slot = self._slot_in_place(volunteer_id, values)
        if slot is None:
            self.upsert_many(
                ids=[volunteer_id], **{name: [value] for name, value in values.items()}
            )
            return
        # A known volunteer staying in their cell: the cells are written where they are.
        columns = self._columns
        # Every value is converted before any is written, so a bad one changes nothing.
        converted = [
            (name, dtype(values.get(name, default))) for name, dtype, default in _COLUMNS[1:]
        ]
        for name, value in converted:
            columns[name][slot] = value
        on_duty = columns["on_duty_until"][slot] > 0
        if on_duty != (slot in self._on_duty):
            (self._on_duty.add if on_duty else self._on_duty.discard)(slot)
            self._on_duty_array = None

    def _slot_in_place(self, volunteer_id: int, values: dict[str, Any]) -> int | None:
        """The slot a known volunteer keeps when these plain values are valid and leave them
        in the same cell; None when the general path must decide."""
        unknown = set(values) - set(_GIVEN[1:])
        if unknown or not isinstance(volunteer_id, int) or volunteer_id not in self:
            return None
        try:
            latitude = float(values["latitude"])
            longitude = float(values["longitude"])
            travel_km = float(values["travel_km"])
            capacity = int(values.get("capacity", 1))
        except (KeyError, TypeError, ValueError):
            return None
        if not (abs(latitude) <= 90 and abs(longitude) <= 180 and travel_km >= 0 <= capacity):
            return None
        slot = int(self._slot_of_id[volunteer_id])
        row = math.floor(latitude / CELL_DEGREES) + _ROWS_OFFSET
        column = math.floor(longitude / CELL_DEGREES) + _COLUMNS_OFFSET
        if row * _COLUMNS_PER_ROW + column != self._cells[slot]:
            return None
        return slot

    def upsert_many(self, **columns: ArrayLike) -> None:
        """Add volunteers or replace what is known about them, given as equal-length columns:
        ``ids``, ``latitude``, ``longitude``, ``travel_km`` and optionally ``skills``,
        ``languages``, ``availability``, ``capacity`` (default 1), ``load``, ``recent_tasks`` and
        ``on_duty_until`` (default 0)."""
        values = _validated(columns)
        ids = values["ids"]
        if not len(ids):
            return
        self._grow_id_map(int(ids.max()))

        slots = self._slot_of_id[ids].astype(np.int64)
        cells = cell_keys(values["latitude"], values["longitude"])
        known = slots >= 0
        # A known volunteer who stays in the same cell is rewritten where they are.
        in_place = known.copy()
        in_place[known] = self._cells[slots[known]] == cells[known]
        moving = known & ~in_place
        if moving.any():
            self._kill(slots[moving])
        new = ~in_place
        new_count = int(new.sum())
        if new_count:
            start = self._size
            self._reserve(start + new_count)
            slots[new] = np.arange(start, start + new_count)
            self._size += new_count
        for name, _dtype, _default in _COLUMNS:
            self._columns[name][slots] = values[name]
        self._alive[slots] = True
        self._cells[slots] = cells
        self._slot_of_id[ids] = slots
        self._on_duty.update(slots[values["on_duty_until"] > 0].tolist())
        self._on_duty.difference_update(slots[values["on_duty_until"] <= 0].tolist())
        self._on_duty_array = None
        if self._needs_compaction():
            self.compact()

    def remove(self, volunteer_id: int) -> bool:
        """Forget a volunteer; False if the index did not hold them."""
        if not 0 <= volunteer_id < len(self._slot_of_id):
            return False
        slot = int(self._slot_of_id[volunteer_id])
        if slot < 0:
            return False
        self._kill(np.array([slot]))
        self._slot_of_id[volunteer_id] = -1
        if self._needs_compaction():
            self.compact()
        return True

    def set_load(self, volunteer_id: int, load: int) -> None:
        """Record how many tasks a volunteer holds now."""
        self._columns["load"][self._slot(volunteer_id)] = load

    def compact(self) -> None:
        """Sort every living volunteer by cell again and drop dead slots."""
        living = np.flatnonzero(self._alive[: self._size])
        order = living[np.argsort(self._cells[living], kind="stable")]
        self._install({name: self._columns[name][order] for name in _GIVEN}, self._cells[order])

    def _install(self, columns: dict[str, NDArray[Any]], cells: NDArray[np.int64]) -> None:
        """Take sorted columns as the whole index."""
        self._columns = {name: np.ascontiguousarray(column) for name, column in columns.items()}
        self._cells = np.ascontiguousarray(cells)
        self._size = self._base = len(cells)
        self._dead = 0
        self._alive = np.ones(self._size, np.bool_)
        ids = self._columns["ids"]
        if self._size:
            self._grow_id_map(int(ids.max()))
        self._slot_of_id[:] = -1
        self._slot_of_id[ids] = np.arange(self._size, dtype=np.int32)
        self._on_duty = set(np.flatnonzero(self._columns["on_duty_until"] > 0).tolist())
        self._on_duty_array = None

    # Reading

    def __len__(self) -> int:
        return self._size - self._dead

    def __contains__(self, volunteer_id: object) -> bool:
        if not isinstance(volunteer_id, int | np.integer):
            return False
        return bool(
            0 <= volunteer_id < len(self._slot_of_id) and self._slot_of_id[volunteer_id] >= 0
        )

    @property
    def nbytes(self) -> int:
        arrays = [*self._columns.values(), self._alive, self._cells, self._slot_of_id]
        return sum(array.nbytes for array in arrays)

    def volunteer(self, volunteer_id: int) -> dict[str, Any]:
        """Everything the index holds about one volunteer."""
        slot = self._slot(volunteer_id)
        return {name: self._columns[name][slot].item() for name in _GIVEN}

    def columns(self) -> dict[str, NDArray[Any]]:
        """Copies of the columns of every volunteer held, in no particular order."""
        living = np.flatnonzero(self._alive[: self._size])
        return {name: self._columns[name][living] for name in _GIVEN}

    def candidates(
        self, need: Need, k: int, *, now: float = 0.0, exclude: Collection[int] = ()
    ) -> list[Candidate]:
        """The k best volunteers for `need`: in its radius and their own travel distance, with
        every required skill, a shared language, free in its window and under capacity; on duty
        first, then by `scoring.scores`, then by id. Volunteers in `exclude` are left out."""
        if k <= 0:
            return []
        rows = self._ranked(need, k, now=now, exclude=exclude)
        return self._candidates(rows, need, now)

    def nearest(
        self,
        need: Need,
        k: int,
        *,
        now: float = 0.0,
        blocked: NDArray[np.bool_] | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Ids and distances of the k nearest eligible volunteers, on duty or not, leaving out
        those `blocked` marks (see `mask_of`)."""
        if k <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        rows = self._ranked(need, k, now=now, blocked=blocked, by_distance=True)
        return self._columns["ids"][rows[:, 0].astype(np.int64)], rows[:, 2]

    def mask_of(self, volunteer_ids: NDArray[np.int64]) -> NDArray[np.bool_]:
        """A mark on each of these volunteers, for `nearest` to leave out; valid until the
        index next changes."""
        mask = np.zeros(self._size, np.bool_)
        slots = self._slot_of_id[volunteer_ids]
        mask[slots[slots >= 0]] = True
        return mask

    def free_capacity(self, volunteer_ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """How many more tasks each of these volunteers can take."""
        slots = self._slot_of_id[volunteer_ids]
        free = self._columns["capacity"][slots].astype(np.int64) - self._columns["load"][slots]
        return np.maximum(free, 0)

    def _ranked(
        self,
        need: Need,
        k: int,
        *,
        now: float = 0.0,
        exclude: Collection[int] = (),
        blocked: NDArray[np.bool_] | None = None,
        by_distance: bool = False,
    ) -> NDArray[np.float64]:
        """Rows of (slot, score, distance) of the k best volunteers, as `candidates` ranks
        them, or nearest first when `by_distance` (on duty or not)."""
        excluded = self._slots_of(exclude)
        chosen = []
        if not by_distance:
            on_duty = self._on_duty_slots(now)
            near = (
                np.abs(self._columns["latitude"][on_duty] - need.latitude)
                <= math.degrees(need.radius_km / EARTH_RADIUS_KM) + 1e-9
            )
            chosen.append(self._rank(self._evaluate(on_duty[near], need, now, excluded)))
            chosen[0] = chosen[0][:k]
        wanted = k - sum(len(part) for part in chosen)
        if wanted > 0:
            key = 2 if by_distance else 1
            whole = self._box(need, need.radius_km)
            # Where volunteers are few, one look at the whole radius is quicker than widening.
            shares = SEARCH_STAGES if len(whole) > FEW_ENOUGH_TO_CHECK_ALL else (1.0,)
            for share in shares:
                reach = need.radius_km * share
                slots = whole if share == 1.0 else self._box(need, reach)
                if not by_distance:
                    slots = self._off_duty(slots, now)
                if blocked is not None:
                    slots = slots[~blocked[slots]]
                ranked = self._rank(self._evaluate(slots, need, now, excluded), key)
                if share < 1.0:
                    ranked = ranked[ranked[:, key] <= reach]
                if len(ranked) >= wanted or share == 1.0:
                    chosen.append(ranked[:wanted])
                    break
        return np.concatenate(chosen) if len(chosen) > 1 else chosen[0]

    def count_eligible(self, need: Need, *, now: float = 0.0) -> int:
        """How many volunteers could take `need` now."""
        return len(self._evaluate(self._box(need, need.radius_km), need, now, None))

    def leftover_reason(
        self, need: Need, *, now: float = 0.0, exclude: Collection[int] = ()
    ) -> Reason | None:
        """Why no volunteer can take `need`, or None when someone can. The first condition
        that rules everyone out is the reason given."""
        slots = self._box(need, need.radius_km)
        slots = slots[self._alive[slots]]
        excluded = self._slots_of(exclude)
        if excluded is not None:
            slots = slots[~np.isin(slots, excluded)]
        distance = self._distances(slots, need)
        slots = slots[distance <= self._reach_km(slots, need)]
        if not len(slots):
            return Reason.NOBODY_IN_RANGE
        slots = slots[self._speaks_and_can(slots, need)]
        if not len(slots):
            return Reason.NO_SKILL_OR_LANGUAGE
        if need.window:
            slots = slots[(self._columns["availability"][slots] & np.uint32(need.window)) != 0]
            if not len(slots):
                return Reason.NOT_AVAILABLE
        if not (self._columns["load"][slots] < self._columns["capacity"][slots]).any():
            return Reason.AT_CAPACITY
        return None

    # Inside

    def _slot(self, volunteer_id: int) -> int:
        if volunteer_id not in self:
            raise KeyError(volunteer_id)
        return int(self._slot_of_id[volunteer_id])

    def _slots_of(self, volunteer_ids: Iterable[int]) -> NDArray[np.int64] | None:
        ids = (
            volunteer_ids.astype(np.int64, copy=False)
            if isinstance(volunteer_ids, np.ndarray)
            else np.fromiter(volunteer_ids, dtype=np.int64)
        )
        ids = ids[(ids >= 0) & (ids < len(self._slot_of_id))]
        slots = self._slot_of_id[ids].astype(np.int64)
        slots = slots[slots >= 0]
        return slots if len(slots) else None

    def _grow_id_map(self, largest_id: int) -> None:
        if largest_id < len(self._slot_of_id):
            return
        grown = np.full(max(largest_id + 1, 2 * len(self._slot_of_id)), -1, np.int32)
        grown[: len(self._slot_of_id)] = self._slot_of_id
        self._slot_of_id = grown

    def _reserve(self, slots: int) -> None:
        if slots <= len(self._alive):
            return
        room = max(slots, 2 * len(self._alive), 64)
        for name, dtype, _default in _COLUMNS:
            self._columns[name] = _grown(self._columns[name], room, dtype)
        self._alive = _grown(self._alive, room, np.bool_)
        self._cells = _grown(self._cells, room, np.int64)

    def _kill(self, slots: NDArray[np.int64]) -> None:
        self._alive[slots] = False
        self._dead += len(slots)
        self._on_duty.difference_update(slots.tolist())
        self._on_duty_array = None

    def _needs_compaction(self) -> bool:
        unsorted = self._size - self._base
        limit = max(UNSORTED_AT_LEAST, int(self._size * UNSORTED_SHARE))
        return unsorted > limit or self._dead > max(UNSORTED_AT_LEAST, self._size // 4)

    def _box(self, need: Need, reach_km: float) -> NDArray[np.int64]:
        """Slots (possibly dead) of every volunteer who could be within `reach_km` of need."""
        angle = reach_km / EARTH_RADIUS_KM
        margin = 1e-9
        half_height = math.degrees(angle) + margin
        south, north = need.latitude - half_height, need.latitude + half_height
        ratio = math.sin(min(angle, math.pi / 2)) / max(math.cos(math.radians(need.latitude)), 0.0)
        if south <= -90 or north >= 90 or ratio >= 1:
            spans = [(-180.0, 180.0)]
        else:
            half_width = math.degrees(math.asin(ratio)) + margin
            west, east = need.longitude - half_width, need.longitude + half_width
            spans = [(max(west, -180.0), min(east, 180.0))]
            if west < -180:
                spans.append((west + 360, 180.0))
            if east > 180:
                spans.append((-180.0, east - 360))
        south, north = max(south, -90.0), min(north, 90.0)
        first_row = math.floor(south / CELL_DEGREES) + _ROWS_OFFSET
        last_row = math.floor(north / CELL_DEGREES) + _ROWS_OFFSET
        rows = np.arange(first_row, last_row + 1, dtype=np.int64) * _COLUMNS_PER_ROW
        sorted_cells = self._cells[: self._base]
        parts = []
        for west, east in spans:
            first = math.floor(west / CELL_DEGREES) + _COLUMNS_OFFSET
            last = math.floor(east / CELL_DEGREES) + _COLUMNS_OFFSET
            starts = np.searchsorted(sorted_cells, rows + first, side="left")
            ends = np.searchsorted(sorted_cells, rows + last, side="right")
            parts.append(_concatenated_ranges(starts, ends))
        if self._size > self._base:
            latitude = self._columns["latitude"][self._base : self._size]
            longitude = self._columns["longitude"][self._base : self._size]
            inside = (latitude >= south) & (latitude <= north)
            across = np.zeros_like(inside)
            for west, east in spans:
                across |= (longitude >= west) & (longitude <= east)
            parts.append(np.flatnonzero(inside & across) + self._base)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _on_duty_slots(self, now: float) -> NDArray[np.int64]:
        if self._on_duty_array is None:
            self._on_duty_array = np.sort(
                np.fromiter(self._on_duty, dtype=np.int64, count=len(self._on_duty))
            )
        slots = self._on_duty_array
        return slots[self._columns["on_duty_until"][slots] > now]

    def _off_duty(self, slots: NDArray[np.int64], now: float) -> NDArray[np.int64]:
        if not self._on_duty:
            return slots
        return slots[self._columns["on_duty_until"][slots] <= now]

    def _speaks_and_can(self, slots: NDArray[np.int64], need: Need) -> NDArray[np.bool_]:
        fits = np.ones(len(slots), np.bool_)
        if need.skills:
            required = np.uint64(need.skills)
            fits &= (self._columns["skills"][slots] & required) == required
        if need.languages:
            fits &= (self._columns["languages"][slots] & np.uint64(need.languages)) != 0
        return fits

    def _reach_km(self, slots: NDArray[np.int64], need: Need) -> NDArray[np.float64]:
        """How far each volunteer may be: the nearer of the need's radius and their own."""
        return np.minimum(
            np.float64(need.radius_km), self._columns["travel_km"][slots], dtype=np.float64
        )

    def _distances(self, slots: NDArray[np.int64], need: Need) -> NDArray[np.float64]:
        return distances_km(
            need.latitude,
            need.longitude,
            self._columns["latitude"][slots],
            self._columns["longitude"][slots],
        )

    def _evaluate(
        self,
        slots: NDArray[np.int64],
        need: Need,
        now: float,
        excluded: NDArray[np.int64] | None,
    ) -> NDArray[np.float64]:
        """Rows of (slot, score, distance) for the eligible volunteers among `slots`."""
        columns = self._columns
        fits = self._alive[slots] & self._speaks_and_can(slots, need)
        if need.window:
            fits &= (columns["availability"][slots] & np.uint32(need.window)) != 0
        fits &= columns["load"][slots] < columns["capacity"][slots]
        slots = slots[fits]
        if excluded is not None:
            slots = slots[~np.isin(slots, excluded)]
        distance = self._distances(slots, need)
        within = distance <= self._reach_km(slots, need)
        slots, distance = slots[within], distance[within]
        lacks_language = (
            (columns["languages"][slots] & np.uint64(need.preferred_language)) == 0
            if need.preferred_language
            else np.zeros(len(slots), np.bool_)
        )
        missing_skills = (
            np.bitwise_count(~columns["skills"][slots] & np.uint64(need.preferred_skills))
            if need.preferred_skills
            else np.zeros(len(slots), np.uint8)
        )
        score = scores(distance, columns["recent_tasks"][slots], lacks_language, missing_skills)
        return np.column_stack([slots.astype(np.float64), score, distance])

    def _rank(self, rows: NDArray[np.float64], key: int = 1) -> NDArray[np.float64]:
        ids = self._columns["ids"][rows[:, 0].astype(np.int64)]
        return rows[np.lexsort((ids, rows[:, key]))]

    def _candidates(self, rows: NDArray[np.float64], need: Need, now: float) -> list[Candidate]:
        """Rows of (slot, score, distance) as Candidates, each column read once as a list."""
        slots = rows[:, 0].astype(np.int64)
        columns = self._columns
        return [
            Candidate(
                volunteer_id=volunteer_id,
                distance_km=distance,
                score=score,
                on_duty=duty_until > now,
                recent_tasks=recent_tasks,
                speaks_preferred_language=bool(languages & need.preferred_language)
                or not need.preferred_language,
                missing_preferred_skills=(need.preferred_skills & ~skills).bit_count(),
            )
            for volunteer_id, distance, score, duty_until, recent_tasks, languages, skills in zip(
                columns["ids"][slots].tolist(),
                rows[:, 2].tolist(),
                rows[:, 1].tolist(),
                columns["on_duty_until"][slots].tolist(),
                columns["recent_tasks"][slots].tolist(),
                columns["languages"][slots].tolist(),
                columns["skills"][slots].tolist(),
                strict=True,
            )
        ]


def _validated(columns: dict[str, ArrayLike]) -> dict[str, NDArray[Any]]:
    """The given columns as arrays of the index's types and one length, or an error."""
    unknown = set(columns) - set(_GIVEN)
    if unknown:
        raise TypeError(f"Unknown volunteer columns: {sorted(unknown)}")
    ids = np.asarray(columns["ids"], dtype=np.int64).reshape(-1)
    values = {}
    for name, dtype, default in _COLUMNS:
        given = columns.get(name, default)
        if given is None:
            raise TypeError(f"Volunteer column {name} is required")
        values[name] = np.broadcast_to(np.asarray(given, dtype=dtype), ids.shape)
    latitude, longitude = values["latitude"], values["longitude"]
    if not (np.all(np.abs(latitude) <= 90) and np.all(np.abs(longitude) <= 180)):
        raise ValueError("Latitudes must lie in [-90, 90] and longitudes in [-180, 180]")
    if np.any(ids < 0):
        raise ValueError("Volunteer ids must not be negative")
    ordered = np.sort(ids)
    if np.any(ordered[1:] == ordered[:-1]):
        raise ValueError("Each volunteer may appear once in a call")
    if np.any(values["travel_km"] < 0) or np.any(values["capacity"] < 0):
        raise ValueError("Travel distances and capacities must not be negative")
    return values


def _grown(array: NDArray[Any], room: int, dtype: Any) -> NDArray[Any]:
    grown = np.empty(room, dtype)
    grown[: len(array)] = array
    return grown
