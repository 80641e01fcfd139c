"""`assign`: every match is an eligible pair, nobody gets more than their free capacity, each
need is matched once or left over with a reason; as many needs are served as a maximum flow
allows, and among those answers the total distance is least; never fewer than greedy."""

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_flow

from mutualaid.matching import AssignResult, Match, Need, Reason, assign
from mutualaid.matching.reference import assign_greedy
from mutualaid.matching.tests import model
from mutualaid.matching.tests.model import Volunteer, index_of, km_north, searching
from mutualaid.matching.tests.strategies import (
    NOW,
    PLACES,
    RADIUS,
    SPOTS,
    crowds,
    needs,
    points,
)

LEFT_OVER_KM = 1e6  # more than any set of journeys in these tests adds up to
IMPOSSIBLE_KM = 1e9


def edges(batch: list[Need], crowd: list[Volunteer]) -> dict[tuple[int, int], float]:
    """(need index, volunteer id) -> distance, for every eligible pair."""
    return {
        (row, volunteer.id): model.distance(need, volunteer)
        for row, need in enumerate(batch)
        for volunteer in crowd
        if model.eligible(need, volunteer)
    }


def free(volunteer: Volunteer) -> int:
    return max(volunteer.capacity - volunteer.load, 0)


def most_served(batch: list[Need], crowd: list[Volunteer]) -> int:
    """A maximum flow from a source to each need (1), to each eligible volunteer (1), to a sink
    (the volunteer's free capacity)."""
    needs_count, sink = len(batch), len(batch) + len(crowd) + 1
    column_of = {volunteer.id: needs_count + 1 + i for i, volunteer in enumerate(crowd)}
    arcs = [(0, 1 + row, 1) for row in range(needs_count)]
    arcs += [(1 + row, column_of[volunteer_id], 1) for row, volunteer_id in edges(batch, crowd)]
    arcs += [(column_of[v.id], sink, free(v)) for v in crowd]
    tails, heads, capacities = zip(*arcs, strict=True) if arcs else ((), (), ())
    network = csr_array(
        (np.array(capacities, np.int32), (np.array(tails), np.array(heads))),
        shape=(sink + 1, sink + 1),
    )
    return int(maximum_flow(network, 0, sink).flow_value)


def best(batch: list[Need], crowd: list[Volunteer]) -> tuple[int, float]:
    """(served, total distance) of the best assignment: most served, then least distance. Each
    volunteer is one column per task they can take, each need has a costly left-over column."""
    pairs = edges(batch, crowd)
    columns = [v.id for v in crowd for _ in range(min(free(v), len(batch)))]
    costs = np.full((len(batch), len(columns) + len(batch)), IMPOSSIBLE_KM)
    for row in range(len(batch)):
        for column, volunteer_id in enumerate(columns):
            costs[row, column] = pairs.get((row, volunteer_id), IMPOSSIBLE_KM)
        costs[row, len(columns) + row] = LEFT_OVER_KM
    rows, chosen = linear_sum_assignment(costs)
    real = chosen < len(columns)
    assert (costs[rows, chosen] < IMPOSSIBLE_KM).all()
    return int(real.sum()), float(costs[rows[real], chosen[real]].sum())


def best_by_trying_everything(batch: list[Need], crowd: list[Volunteer]) -> tuple[int, float]:
    pairs = edges(batch, crowd)
    room = {v.id: free(v) for v in crowd}
    best_found = (0, 0.0)
    for choice in itertools.product([None, *room], repeat=len(batch)):
        taken = [volunteer_id for volunteer_id in choice if volunteer_id is not None]
        if any(taken.count(volunteer_id) > room[volunteer_id] for volunteer_id in set(taken)):
            continue
        if any(v is not None and (row, v) not in pairs for row, v in enumerate(choice)):
            continue
        found = (len(taken), sum(pairs[row, v] for row, v in enumerate(choice) if v is not None))
        if (found[0], -found[1]) > (best_found[0], -best_found[1]):
            best_found = found
    return best_found


def check_valid(result: AssignResult, batch: list[Need], crowd: list[Volunteer]) -> None:
    """Eligible pairs only, within free capacities, every need matched once or left over with
    the reason the rules give (or at capacity when the batch used up who was free)."""
    by_id = {v.id: v for v in crowd}
    need_of = {need.id: need for need in batch}
    matched = [match.need_id for match in result.matches]
    assert len(matched) == len(set(matched))
    assert set(matched).isdisjoint(result.leftovers)
    assert set(matched) | set(result.leftovers) == set(need_of)
    for match in result.matches:
        need, volunteer = need_of[match.need_id], by_id[match.volunteer_id]
        assert model.eligible(need, volunteer)
        assert match.distance_km == pytest.approx(model.distance(need, volunteer), abs=1e-6)
    tasks = [match.volunteer_id for match in result.matches]
    for volunteer_id in set(tasks):
        assert tasks.count(volunteer_id) <= free(by_id[volunteer_id])
    for need_id, reason in result.leftovers.items():
        assert reason == (model.reason(crowd, need_of[need_id]) or Reason.AT_CAPACITY)
    assert result.served == len(result.matches)
    assert result.total_distance_km == pytest.approx(sum(m.distance_km for m in result.matches))


@st.composite
def batches(draw: st.DrawFn, max_needs: int, max_volunteers: int):
    # One place, or all of them at once: needs far apart form separate parts of the graph.
    where = points(draw(st.sampled_from([*PLACES, tuple(SPOTS)])))
    crowd = draw(crowds(max_size=max_volunteers, where=where))
    size = draw(st.integers(0, max_needs))
    batch = draw(st.lists(needs(where, RADIUS), min_size=size, max_size=size))
    in_stages = draw(st.booleans())
    return crowd, [replace(need, id=100 + row) for row, need in enumerate(batch)], in_stages


@settings(max_examples=150, deadline=None, database=None)
@given(batches(max_needs=6, max_volunteers=6))
def test_on_small_cases_the_most_needs_are_served_over_the_least_distance(world):
    """With a candidates_per_need larger than the crowd, the candidate graph holds every
    eligible pair, so the answer must be as good as the best over all pairs."""
    crowd, batch, in_stages = world

    with searching(in_stages=in_stages):
        result = assign(batch, index_of(crowd), now=NOW, candidates_per_need=len(crowd) + 1)

    check_valid(result, batch, crowd)
    served, distance = best(batch, crowd)
    assert result.served == most_served(batch, crowd) == served
    assert result.total_distance_km == pytest.approx(distance, abs=1e-6)


@settings(max_examples=60, deadline=None, database=None)
@given(batches(max_needs=4, max_volunteers=4))
def test_the_best_answer_used_above_is_the_best_of_every_possible_answer(world):
    crowd, batch, _in_stages = world

    served, distance = best_by_trying_everything(batch, crowd)

    assert best(batch, crowd) == (served, pytest.approx(distance, abs=1e-9))
    assert most_served(batch, crowd) == served


@settings(max_examples=60, deadline=None, database=None)
@given(batches(max_needs=25, max_volunteers=16))
def test_assign_serves_at_least_as_many_as_greedy(world):
    """Up to 16 volunteers, so that the default candidates_per_need holds every eligible pair.
    Serving as many as greedy, the total distance is no more than greedy's."""
    crowd, batch, in_stages = world
    index = index_of(crowd)

    with searching(in_stages=in_stages):
        result = assign(batch, index, now=NOW)
        greedy = assign_greedy(batch, index, now=NOW)

    check_valid(result, batch, crowd)
    assert result.served >= greedy.served
    if result.served == greedy.served:
        assert result.total_distance_km <= greedy.total_distance_km + 1e-9
    assert result.served == most_served(batch, crowd)


@settings(max_examples=20, deadline=None, database=None)
@given(batches(max_needs=40, max_volunteers=60))
def test_assign_with_sparse_candidates_stays_valid(world):
    """With the default candidates_per_need smaller than the crowd, the answer is still made
    of eligible pairs within capacities."""
    crowd, batch, in_stages = world
    by_id = {v.id: v for v in crowd}

    with searching(in_stages=in_stages):
        result = assign(batch, index_of(crowd), now=NOW)

    need_of = {need.id: need for need in batch}
    assert {m.need_id for m in result.matches} | set(result.leftovers) == set(need_of)
    assert len(result.matches) + len(result.leftovers) == len(batch)
    for match in result.matches:
        assert model.eligible(need_of[match.need_id], by_id[match.volunteer_id])
    tasks = [match.volunteer_id for match in result.matches]
    for volunteer_id in set(tasks):
        assert tasks.count(volunteer_id) <= free(by_id[volunteer_id])


# Constructed cases


def at(volunteer_id: int, kilometres_north: float, **values) -> Volunteer:
    """A volunteer on the prime meridian, this far north of the equator."""
    travel_km = values.pop("travel_km", 50.0)
    return Volunteer(volunteer_id, km_north(kilometres_north), 0.0, travel_km, **values)


def need_at(need_id: int, kilometres_north: float, radius_km: float = 5.0, **values) -> Need:
    return Need(need_id, km_north(kilometres_north), 0.0, radius_km, **values)


def pairs(result: AssignResult) -> set[tuple[int, int]]:
    return {(match.need_id, match.volunteer_id) for match in result.matches}


def test_assign_serves_both_needs_where_greedy_serves_one():
    # Need 1 can have either volunteer, need 2 only volunteer 10, who is nearer to need 1.
    crowd = [at(10, 0.0), at(11, 3.0)]
    batch = [need_at(1, 0.5), need_at(2, -4.0)]
    index = index_of(crowd)

    result = assign(batch, index)
    greedy = assign_greedy(batch, index)

    assert pairs(result) == {(1, 11), (2, 10)}
    assert result.leftovers == {}
    assert pairs(greedy) == {(1, 10)}
    assert greedy.leftovers == {2: Reason.AT_CAPACITY}


def test_assign_keeps_the_total_distance_least():
    # Nearest first would send 10 to need 1 (0.5 km) and 11 to need 2 (4 km): 4.5 km in all.
    crowd = [at(10, 0.0), at(11, 2.0)]
    batch = [need_at(1, 0.5), need_at(2, -2.0)]

    result = assign(batch, index_of(crowd))

    assert pairs(result) == {(1, 11), (2, 10)}
    assert result.total_distance_km == pytest.approx(3.5, abs=1e-6)


def test_a_volunteer_takes_as_many_tasks_as_they_have_room_for():
    crowd = [at(10, 0.0, capacity=3, load=1), at(11, 4.0, capacity=1)]
    batch = [need_at(i, 0.0) for i in range(1, 5)]

    result = assign(batch, index_of(crowd))

    tasks = [match.volunteer_id for match in result.matches]
    assert sorted(tasks) == [10, 10, 11]
    assert list(result.leftovers.values()) == [Reason.AT_CAPACITY]


def test_a_volunteer_at_the_same_point_as_the_need_is_matched():
    result = assign([need_at(1, 0.0, radius_km=0.0)], index_of([at(10, 0.0, travel_km=0.0)]))

    assert result.matches == [Match(1, 10, pytest.approx(0.0, abs=1e-9))]


def test_nothing_to_assign():
    assert assign([], index_of([at(10, 0.0)])) == AssignResult()


def test_with_nobody_in_the_index_every_need_is_left_over():
    result = assign([need_at(1, 0.0), need_at(2, 1.0)], index_of([]))

    assert result.matches == []
    assert result.leftovers == {1: Reason.NOBODY_IN_RANGE, 2: Reason.NOBODY_IN_RANGE}


def test_each_leftover_says_why():
    driving, monday = 0b1, 0b1
    crowd = [
        at(10, 20.0),  # out of everyone's range
        at(11, 0.0, skills=0),  # without driving
        at(12, 0.0, languages=0b10),  # without Polish
        at(13, 0.0, skills=driving, availability=0b10),  # busy on Mondays
        at(14, 0.0, skills=driving, availability=monday, capacity=2, load=2),  # full
        at(15, 0.0, skills=driving, availability=monday, capacity=1),  # free, for one need only
    ]
    batch = [
        need_at(1, 0.0, radius_km=2.0, skills=driving, window=monday),  # 15 takes it
        need_at(2, 0.0, radius_km=2.0, skills=driving, window=monday),  # 15 is taken
        need_at(3, 30.0),  # nobody within 5 km
        need_at(4, 0.0, skills=0b100),  # nobody can
        need_at(5, 0.0, languages=0b100),  # nobody speaks it
        need_at(6, 0.0, skills=driving, window=0b100),  # nobody free then
    ]

    result = assign(batch, index_of(crowd))

    assert len(result.matches) == 1
    assert result.matches[0].volunteer_id == 15
    leftover = 2 if result.matches[0].need_id == 1 else 1
    assert result.leftovers == {
        leftover: Reason.AT_CAPACITY,
        3: Reason.NOBODY_IN_RANGE,
        4: Reason.NO_SKILL_OR_LANGUAGE,
        5: Reason.NO_SKILL_OR_LANGUAGE,
        6: Reason.NOT_AVAILABLE,
    }


@pytest.mark.parametrize("count", [17, 65, 150])
def test_a_need_is_not_left_over_while_an_eligible_volunteer_is_free(count):
    """As many needs at one point as volunteers around it with room for one task each: every
    need can be served, and greedy serves them all. Each need first sees only its
    candidates_per_need nearest volunteers (16), so a dense cluster needs the batch to look
    past the volunteers it has filled for as long as that finds somebody."""
    crowd = [at(i, 0.01 * i) for i in range(count)]
    batch = [need_at(1_000 + i, 0.0) for i in range(count)]
    index = index_of(crowd)

    result = assign(batch, index)

    assert assign_greedy(batch, index).served == count
    assert result.served == count
    assert result.leftovers == {}
