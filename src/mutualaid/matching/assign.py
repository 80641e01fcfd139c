"""Batch assignment: many needs and many volunteers at once.

The needs and the volunteers near enough to each form a sparse bipartite graph: each need is
joined to its ``candidates_per_need`` nearest eligible volunteers. A volunteer who can take
``c`` more tasks appears as ``c`` columns, and each need has one column of its own that stands
for "left over" and costs more than any set of real journeys could. SciPy's sparse
minimum-weight full matching (LAPJVsp) then serves as many needs as the graph allows and, among
those answers, the one with the least total distance. Needs left over although they had
candidates look past the volunteers the batch filled, and the batch is solved again.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

from mutualaid.matching.index import VolunteerIndex
from mutualaid.matching.types import AssignResult, Match, Need, Reason

CANDIDATES_PER_NEED = 16
WIDENING_ROUNDS = 8
# Every real edge costs its distance plus this, so that a volunteer at distance 0 is an edge.
_EDGE_FLOOR_KM = 1e-3


def assign(
    needs: Sequence[Need],
    index: VolunteerIndex,
    *,
    now: float = 0.0,
    candidates_per_need: int = CANDIDATES_PER_NEED,
    widening_rounds: int = WIDENING_ROUNDS,
) -> AssignResult:
    """Match needs to volunteers: the most needs served, then the least total distance, never
    giving a volunteer more tasks than their free capacity. Needs left over carry a reason.

    A need left over while it had candidates looks again past the volunteers the batch has
    filled, twice as far down its list each time, and the whole batch is solved again, until
    no such need finds anyone new or `widening_rounds` have passed; so a need is not left over
    while an eligible volunteer it never saw has room."""
    result = AssignResult()
    if not needs:
        return result
    if candidates_per_need < 1:
        raise ValueError("Each need must look at one candidate at least")
    edges = _Edges()
    # A need whose search came back short has seen every volunteer who could take it.
    saw_everyone = np.zeros(len(needs), np.bool_)
    for row, need in enumerate(needs):
        ids, distance = index.nearest(need, candidates_per_need, now=now)
        edges.add(row, ids, distance)
        saw_everyone[row] = len(ids) < candidates_per_need
    for round_ in range(widening_rounds + 1):
        solution = _solve(edges, len(needs), index)
        widen = np.flatnonzero(~solution.served & solution.had_candidates & ~saw_everyone)
        if round_ == widening_rounds or not len(widen):
            break
        full = index.mask_of(solution.volunteers[solution.taken >= solution.free])
        widened = False
        # Each round looks twice as far down the list as the last.
        reach = candidates_per_need << (round_ + 1)
        for row in widen.tolist():
            ids, distance = index.nearest(needs[row], reach, now=now, blocked=full)
            saw_everyone[row] = len(ids) < reach
            fresh = ~np.isin(ids, edges.volunteers_of(row))
            if fresh.any():
                edges.add(row, ids[fresh], distance[fresh])
                widened = True
        if not widened:
            break

    for row, volunteer_id, distance_km in solution.matches:
        result.matches.append(Match(needs[row].id, volunteer_id, distance_km))
    for row in np.flatnonzero(~solution.served).tolist():
        need = needs[row]
        # Someone could have taken it, but the batch gave them other requests.
        reason = None if solution.had_candidates[row] else index.leftover_reason(need, now=now)
        result.leftovers[need.id] = reason or Reason.AT_CAPACITY
    return result


class _Edges:
    """The candidate graph: (need row, volunteer id, distance) triples, grown in rounds."""

    def __init__(self) -> None:
        self._needs: list[np.ndarray] = []
        self._volunteers: list[np.ndarray] = []
        self._distances: list[np.ndarray] = []
        self._by_need: dict[int, list[np.ndarray]] = {}

    def add(self, row: int, volunteer_ids: np.ndarray, distances: np.ndarray) -> None:
        self._needs.append(np.full(len(volunteer_ids), row, np.int64))
        self._volunteers.append(volunteer_ids)
        self._distances.append(distances)
        self._by_need.setdefault(row, []).append(volunteer_ids)

    def volunteers_of(self, row: int) -> np.ndarray:
        return np.concatenate(self._by_need.get(row, [np.empty(0, np.int64)]))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.concatenate(self._needs),
            np.concatenate(self._volunteers),
            np.concatenate(self._distances),
        )


@dataclass
class _Solution:
    matches: list[tuple[int, int, float]]
    served: np.ndarray
    had_candidates: np.ndarray
    volunteers: np.ndarray
    free: np.ndarray
    taken: np.ndarray


def _solve(edges: _Edges, count: int, index: VolunteerIndex) -> _Solution:
    edge_needs, edge_volunteers, edge_distances = edges.arrays()
    volunteers, edge_volunteer_rows = np.unique(edge_volunteers, return_inverse=True)
    free = index.free_capacity(volunteers)
    degree = np.bincount(edge_volunteer_rows, minlength=len(volunteers))
    copies = np.minimum(free, degree)
    real_columns = int(copies.sum())
    need_part, volunteer_part = _separate_parts(count, edge_needs, edge_volunteer_rows, volunteers)
    column_part = np.concatenate([np.repeat(volunteer_part, copies), need_part])
    # Rows and columns are numbered part by part, so each part is one block of the matrix.
    row_order = np.argsort(need_part, kind="stable")
    column_order = np.argsort(column_part, kind="stable")
    # Positions fit in 32 bits, which halves the largest arrays of a big batch.
    row_position = _inverse(row_order).astype(np.int32)
    column_position = _inverse(column_order).astype(np.int32)

    # Each edge to a volunteer becomes one edge to each of their copies; each need also has
    # its own "left over" column.
    edge_copies = copies[edge_volunteer_rows]
    first_column = (np.cumsum(copies) - copies)[edge_volunteer_rows]
    columns = np.repeat(first_column, edge_copies) + _offsets_within(edge_copies)
    columns = np.concatenate([columns, real_columns + np.arange(count)])
    rows = np.concatenate([np.repeat(edge_needs, edge_copies), np.arange(count)])
    leftover_cost = (float(edge_distances.max(initial=0.0)) + 1.0) * (count + 1)
    weights = np.concatenate(
        [np.repeat(edge_distances + _EDGE_FLOOR_KM, edge_copies), np.full(count, leftover_cost)]
    )
    blocked = csr_array(
        (weights, (row_position[rows], column_position[columns])),
        shape=(count, real_columns + count),
    )
    del rows, columns, weights
    matched_rows, matched_columns = _match_by_part(blocked, need_part[row_order], column_part)

    is_real = matched_columns < real_columns
    owner = np.repeat(np.arange(len(volunteers)), copies)
    served_rows, served_columns = matched_rows[is_real], matched_columns[is_real]
    weights_taken = (
        np.asarray(blocked[served_rows, column_position[served_columns]]).reshape(-1)
        if len(served_rows)
        else np.empty(0)
    )
    matched_rows = row_order[matched_rows]
    served_rows = row_order[served_rows]
    owners = owner[served_columns]
    served = np.zeros(count, np.bool_)
    served[served_rows] = True
    had_candidates = np.zeros(count, np.bool_)
    had_candidates[edge_needs[edge_copies > 0]] = True
    matches = list(
        zip(
            served_rows.tolist(),
            volunteers[owners].tolist(),
            (weights_taken - _EDGE_FLOOR_KM).tolist(),
            strict=True,
        )
    )
    taken = np.bincount(owners, minlength=len(volunteers))
    return _Solution(matches, served, had_candidates, volunteers, free, taken)


def _inverse(order: np.ndarray) -> np.ndarray:
    """Where each item went in `order`."""
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    return position


def _separate_parts(
    count: int,
    edge_needs: np.ndarray,
    edge_volunteer_rows: np.ndarray,
    volunteers: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Which independent part (connected component) each need and each volunteer is in: needs
    in different towns never compete, and many small problems solve faster than one big one."""
    nodes = count + len(volunteers)
    links = coo_array(
        (np.ones(len(edge_needs), np.int8), (edge_needs, count + edge_volunteer_rows)),
        shape=(nodes, nodes),
    )
    _parts, labels = connected_components(links, directed=False)
    return labels[:count], labels[count:]


def _match_by_part(
    blocked: csr_array, sorted_row_parts: np.ndarray, column_parts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows (in the blocked numbering) and the original columns they are matched to, each part
    solved on its own."""
    parts = np.unique(sorted_row_parts)
    row_bounds = np.searchsorted(sorted_row_parts, parts, side="right")
    column_bounds = np.searchsorted(np.sort(column_parts, kind="stable"), parts, side="right")
    column_order = np.argsort(column_parts, kind="stable")
    matched_rows, matched_columns = [], []
    row_start = column_start = 0
    for row_end, column_end in zip(row_bounds.tolist(), column_bounds.tolist(), strict=True):
        whole = row_start == 0 and row_end == blocked.shape[0]
        block = blocked if whole else blocked[row_start:row_end, column_start:column_end]
        block_rows, block_columns = min_weight_full_bipartite_matching(block)
        matched_rows.append(block_rows + row_start)
        matched_columns.append(column_order[block_columns + column_start])
        row_start, column_start = row_end, column_end
    return np.concatenate(matched_rows), np.concatenate(matched_columns)


def _offsets_within(counts: np.ndarray) -> np.ndarray:
    """0, 1, …, c-1 for each count c, concatenated."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total) - np.repeat(starts, counts)
