"""Batch assignment: many needs and many volunteers at once.

The needs and the volunteers near enough to each form a sparse bipartite graph: each need is
joined to its ``candidates_per_need`` nearest eligible volunteers. A volunteer who can take
``c`` more tasks appears as ``c`` columns, and each need has one column of its own that stands
for "left over" and costs more than any set of real journeys could. SciPy's sparse
minimum-weight full matching (LAPJVsp) then serves as many needs as the graph allows and, among
those answers, the one with the least total distance.
"""

from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from mutualaid.matching.index import VolunteerIndex
from mutualaid.matching.types import AssignResult, Match, Need, Reason

CANDIDATES_PER_NEED = 16
# Every real edge costs its distance plus this, so that a volunteer at distance 0 is an edge.
_EDGE_FLOOR_KM = 1e-3


def assign(
    needs: Sequence[Need],
    index: VolunteerIndex,
    *,
    now: float = 0.0,
    candidates_per_need: int = CANDIDATES_PER_NEED,
) -> AssignResult:
    """Match needs to volunteers: the most needs served, then the least total distance, never
    giving a volunteer more tasks than their free capacity. Needs left over carry a reason."""
    result = AssignResult()
    if not needs:
        return result
    need_rows, volunteer_ids, distances = [], [], []
    for row, need in enumerate(needs):
        ids, distance = index.nearest(need, candidates_per_need, now=now)
        need_rows.append(np.full(len(ids), row, np.int64))
        volunteer_ids.append(ids)
        distances.append(distance)
    edge_needs = np.concatenate(need_rows)
    edge_volunteers = np.concatenate(volunteer_ids)
    edge_distances = np.concatenate(distances)

    volunteers, edge_volunteer_rows = np.unique(edge_volunteers, return_inverse=True)
    degree = np.bincount(edge_volunteer_rows, minlength=len(volunteers))
    copies = np.minimum(index.free_capacity(volunteers), degree)
    first_column = np.concatenate([[0], np.cumsum(copies)[:-1]])

    # Each edge to a volunteer becomes one edge to each of their copies.
    edge_copies = copies[edge_volunteer_rows]
    rows = np.repeat(edge_needs, edge_copies)
    columns = np.repeat(first_column[edge_volunteer_rows], edge_copies)
    columns += _offsets_within(edge_copies)
    weights = np.repeat(edge_distances + _EDGE_FLOOR_KM, edge_copies)

    count = len(needs)
    real_columns = int(copies.sum())
    leftover_cost = (float(edge_distances.max(initial=0.0)) + 1.0) * (count + 1)
    rows = np.concatenate([rows, np.arange(count)])
    columns = np.concatenate([columns, real_columns + np.arange(count)])
    weights = np.concatenate([weights, np.full(count, leftover_cost)])
    graph = csr_array((weights, (rows, columns)), shape=(count, real_columns + count))
    matched_rows, matched_columns = min_weight_full_bipartite_matching(graph)

    served = matched_columns < real_columns
    owner = np.repeat(np.arange(len(volunteers)), copies)
    served_rows, served_columns = matched_rows[served], matched_columns[served]
    weights_taken = np.asarray(graph[served_rows, served_columns]).reshape(-1)
    for row, volunteer_row, weight in zip(
        served_rows.tolist(),
        owner[served_columns].tolist(),
        (weights_taken - _EDGE_FLOOR_KM).tolist(),
        strict=True,
    ):
        result.matches.append(Match(needs[row].id, int(volunteers[volunteer_row]), weight))
    for row in matched_rows[~served].tolist():
        need = needs[row]
        result.leftovers[need.id] = index.leftover_reason(need, now=now) or Reason.AT_CAPACITY
    return result


def _offsets_within(counts: np.ndarray) -> np.ndarray:
    """0, 1, …, c-1 for each count c, concatenated."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total) - np.repeat(starts, counts)
