"""`VolunteerIndex.candidates`: every candidate fits every rule, they come in the documented
order, and they are exactly the k best that a scan of every volunteer finds."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutualaid.matching import (
    LANGUAGE_KM,
    RECENT_TASK_KM,
    SKILL_KM,
    Need,
    VolunteerIndex,
)
from mutualaid.matching.reference import scan_candidates
from mutualaid.matching.scoring import EARTH_RADIUS_KM
from mutualaid.matching.tests import model
from mutualaid.matching.tests.model import (
    Volunteer,
    index_of,
    km_north,
    searching,
    stored_travel,
)
from mutualaid.matching.tests.strategies import (
    NOW,
    PLACES,
    around,
    crowds,
    excluded,
    needs,
    points,
)

PROPERTIES = settings(max_examples=80, deadline=None, database=None)


@st.composite
def worlds(draw: st.DrawFn, max_size: int = 30):
    """A crowd and a need around one place, the k asked for, ids to leave out, and whether the
    index should widen its search in stages."""
    where = points(draw(st.sampled_from(PLACES)))
    crowd = draw(crowds(max_size=max_size, where=where))
    need, k, exclude = draw(needs(where=where)), draw(st.integers(1, 12)), draw(excluded(crowd))
    return crowd, need, k, exclude, draw(st.booleans())


@PROPERTIES
@given(worlds())
def test_every_candidate_fits_every_rule_and_they_come_in_order(world):
    crowd, need, k, exclude, in_stages = world
    by_id = {volunteer.id: volunteer for volunteer in crowd}

    with searching(in_stages=in_stages):
        found = index_of(crowd).candidates(need, k, now=NOW, exclude=exclude)

    assert len(found) <= k
    for candidate in found:
        volunteer = by_id[candidate.volunteer_id]
        assert candidate.volunteer_id not in exclude
        assert candidate.distance_km == pytest.approx(model.distance(need, volunteer), abs=1e-9)
        assert candidate.distance_km <= need.radius_km
        assert candidate.distance_km <= stored_travel(volunteer.travel_km)
        assert volunteer.skills & need.skills == need.skills
        if need.languages:
            assert volunteer.languages & need.languages
        if need.window:
            assert volunteer.availability & need.window
        assert volunteer.load < volunteer.capacity
        # The candidate describes the volunteer and is scored as `scoring` documents.
        speaks = not need.preferred_language or bool(volunteer.languages & need.preferred_language)
        missing = (need.preferred_skills & ~volunteer.skills).bit_count()
        assert candidate.on_duty == (volunteer.on_duty_until > NOW)
        assert candidate.recent_tasks == volunteer.recent_tasks
        assert candidate.speaks_preferred_language == speaks
        assert candidate.missing_preferred_skills == missing
        assert candidate.score == pytest.approx(
            candidate.distance_km
            + RECENT_TASK_KM * min(volunteer.recent_tasks, 10)
            + LANGUAGE_KM * (not speaks)
            + SKILL_KM * missing,
            abs=1e-9,
        )
    # On duty first, then by score, then by id (ids are distinct, so the order is strict).
    keys = [(not c.on_duty, c.score, c.volunteer_id) for c in found]
    assert keys == sorted(set(keys))


@PROPERTIES
@given(worlds())
def test_candidates_are_the_k_best_a_scan_of_everyone_finds(world):
    crowd, need, k, exclude, in_stages = world
    index = index_of(crowd)

    with searching(in_stages=in_stages):
        found = index.candidates(need, k, now=NOW, exclude=exclude)

    expected = model.ranked(crowd, need, k, now=NOW, exclude=exclude)
    assert [c.volunteer_id for c in found] == [volunteer_id for volunteer_id, _ in expected]
    assert [c.score for c in found] == pytest.approx([value for _, value in expected], abs=1e-9)
    scanned = scan_candidates(index, need, k, now=NOW, exclude=exclude)
    assert [c.volunteer_id for c in found] == [volunteer_id for volunteer_id, _ in scanned]
    assert [c.score for c in found] == [value for _, value in scanned]


@settings(max_examples=25, deadline=None, database=None)
@given(worlds(max_size=120))
def test_in_a_crowd_the_candidates_are_still_the_k_best(world):
    crowd, need, k, exclude, in_stages = world

    with searching(in_stages=in_stages):
        found = index_of(crowd).candidates(need, k, now=NOW, exclude=exclude)

    expected = model.ranked(crowd, need, k, now=NOW, exclude=exclude)
    assert [c.volunteer_id for c in found] == [volunteer_id for volunteer_id, _ in expected]


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.sampled_from([spot for place in PLACES for spot in place]),
    st.sampled_from([1.0, 4.0, 16.0, 64.0]),
    st.data(),
)
def test_candidates_are_the_k_best_across_the_edges_of_each_search_stage(spot, radius, data):
    """Everyone fits, nobody is on duty, and volunteers spread out to beyond the radius, many
    near the edge of a stage of the search, with penalties that rank some of them behind
    farther ones: so each widening of the search has volunteers who compete for the top k on
    both sides of its edge."""
    crowd = [
        replace(volunteer, travel_km=25_000.0, capacity=1, load=0, on_duty_until=0.0)
        for volunteer in data.draw(crowds(max_size=40, where=around(spot, radius)))
    ]
    need = replace(
        data.draw(needs()),
        latitude=spot[0],
        longitude=spot[1],
        radius_km=radius,
        skills=0,
        languages=0,
        window=0,
    )
    k = data.draw(st.integers(1, 5))

    with searching(in_stages=True):
        found = index_of(crowd).candidates(need, k, now=NOW)

    expected = model.ranked(crowd, need, k, now=NOW)
    assert [c.volunteer_id for c in found] == [volunteer_id for volunteer_id, _ in expected]


# Constructed cases


def volunteer(volunteer_id: int, latitude: float, longitude: float, **values) -> Volunteer:
    return Volunteer(volunteer_id, latitude, longitude, values.pop("travel_km", 50.0), **values)


def ids(found) -> list[int]:
    return [candidate.volunteer_id for candidate in found]


def test_candidates_reach_across_the_antimeridian():
    index = index_of(
        [
            volunteer(1, 0.0, 179.99),  # about 1.1 km west of the need
            volunteer(2, 0.0, -179.999),  # about 0.2 km east, across the line
            volunteer(3, 0.0, -179.97),  # about 3.5 km east
            volunteer(4, 0.0, 180.0),
        ]
    )
    need = Need(id=1, latitude=0.0, longitude=179.998, radius_km=2.0)

    found = index.candidates(need, 10)

    assert ids(found) == [4, 2, 1]
    assert [c.distance_km for c in found] == pytest.approx([0.2224, 0.3336, 0.8896], abs=1e-3)


def test_candidates_reach_over_a_pole():
    index = index_of(
        [
            volunteer(1, -89.99, 100.0),  # 1.1 km from the pole, so 2.2 km from the need
            volunteer(2, -89.99, -80.0),  # beside the need
            volunteer(3, -89.97, 100.0),  # 4.4 km away over the pole
        ]
    )
    need = Need(id=1, latitude=-89.99, longitude=-80.0, radius_km=3.0)

    found = index.candidates(need, 10)

    assert ids(found) == [2, 1]
    assert found[1].distance_km == pytest.approx(2 * 0.01 * math.pi / 180 * EARTH_RADIUS_KM)


def test_a_need_on_the_pole_reaches_every_longitude():
    index = index_of(
        [volunteer(i, 89.995, longitude) for i, longitude in enumerate([-180, -90, 0, 135, 180])]
    )

    found = index.candidates(Need(id=1, latitude=90.0, longitude=0.0, radius_km=1.0), 10)

    assert sorted(ids(found)) == [0, 1, 2, 3, 4]
    pole_to_ring = math.radians(0.005) * EARTH_RADIUS_KM
    assert [c.distance_km for c in found] == pytest.approx([pole_to_ring] * 5)


def test_a_nearer_volunteer_with_penalties_does_not_hide_a_farther_one_without():
    """At each widening of the search the index may stop only with volunteers whose scores
    nobody farther away could beat: 7.9 km plus five recent tasks is worse than 10 km."""
    index = index_of(
        [
            volunteer(1, km_north(7.9), 0.0, travel_km=100.0, recent_tasks=5),
            volunteer(2, km_north(10.0), 0.0, travel_km=100.0),
        ]
    )
    need = Need(id=1, latitude=0.0, longitude=0.0, radius_km=64.0)

    for in_stages in (False, True):
        with searching(in_stages=in_stages):
            assert ids(index.candidates(need, 1)) == [2]
            assert ids(index.candidates(need, 2)) == [2, 1]


def test_volunteers_at_one_point_come_in_id_order():
    index = index_of([volunteer(i, 51.5, -0.12) for i in [9, 3, 7, 1, 5]])

    found = index.candidates(Need(id=1, latitude=51.5, longitude=-0.12, radius_km=0.0), 3)

    assert ids(found) == [1, 3, 5]
    assert [c.distance_km for c in found] == [0.0, 0.0, 0.0]


def test_volunteers_on_duty_come_first_however_far():
    index = index_of(
        [
            volunteer(1, 0.0, 0.0),
            volunteer(2, km_north(4), 0.0, on_duty_until=NOW + 1),
            volunteer(3, km_north(1), 0.0, on_duty_until=NOW),  # their duty ends now
            volunteer(4, km_north(3), 0.0, on_duty_until=NOW + 1, recent_tasks=1),
        ]
    )

    found = index.candidates(Need(id=1, latitude=0.0, longitude=0.0, radius_km=5.0), 4, now=NOW)

    assert ids(found) == [4, 2, 1, 3]
    assert [c.on_duty for c in found] == [True, True, False, False]


def test_on_duty_volunteers_still_have_to_fit():
    index = index_of(
        [
            volunteer(1, km_north(6), 0.0, on_duty_until=NOW + 1),  # too far
            volunteer(2, 0.0, 0.0, on_duty_until=NOW + 1, load=1, capacity=1),  # full
            volunteer(3, 0.0, 0.0, on_duty_until=NOW + 1, skills=0b01),  # lacks a skill
            volunteer(4, km_north(1), 0.0, skills=0b11),
        ]
    )
    need = Need(id=1, latitude=0.0, longitude=0.0, radius_km=5.0, skills=0b11)

    assert ids(index.candidates(need, 4, now=NOW)) == [4]
    assert ids(index.candidates(Need(1, 0.0, 0.0, 5.0, skills=0b01), 4, now=NOW)) == [3, 4]


def test_recent_tasks_count_up_to_ten():
    index = index_of(
        [
            volunteer(1, 0.0, 0.0, recent_tasks=12),
            volunteer(2, km_north(4.9), 0.0, recent_tasks=0),
            volunteer(3, km_north(1), 0.0, recent_tasks=2),
        ]
    )

    found = index.candidates(Need(id=1, latitude=0.0, longitude=0.0, radius_km=5.0), 3)

    assert ids(found) == [3, 2, 1]
    assert [c.score for c in found] == pytest.approx([2.0, 4.9, 5.0])


def test_speaking_the_requesters_language_and_having_helpful_skills_rank_higher():
    polish, english = 0b01, 0b10
    driving, shopping = 0b100, 0b1000
    index = index_of(
        [
            volunteer(1, 0.0, 0.0, languages=english, skills=driving | shopping),
            volunteer(2, km_north(1.5), 0.0, languages=polish | english, skills=driving),
            volunteer(3, km_north(0.5), 0.0, languages=polish),
        ]
    )
    need = Need(
        id=1,
        latitude=0.0,
        longitude=0.0,
        radius_km=5.0,
        languages=polish | english,
        preferred_language=polish,
        preferred_skills=driving | shopping,
    )

    found = index.candidates(need, 3)

    assert ids(found) == [1, 2, 3]
    assert [c.score for c in found] == pytest.approx([2.0, 2.5, 2.5])
    assert [c.speaks_preferred_language for c in found] == [False, True, True]
    assert [c.missing_preferred_skills for c in found] == [0, 1, 2]


def test_excluded_volunteers_are_left_out():
    index = index_of([volunteer(i, 0.0, 0.0) for i in range(4)])
    need = Need(id=1, latitude=0.0, longitude=0.0, radius_km=1.0)

    assert ids(index.candidates(need, 4, exclude={0, 2, 99, -1})) == [1, 3]
    assert ids(index.candidates(need, 4, exclude=[1])) == [0, 2, 3]


def test_no_candidates_for_k_zero_or_an_empty_index():
    need = Need(id=1, latitude=0.0, longitude=0.0, radius_km=1.0)

    assert index_of([volunteer(1, 0.0, 0.0)]).candidates(need, 0) == []
    assert index_of([volunteer(1, 0.0, 0.0)]).candidates(need, -1) == []
    assert VolunteerIndex().candidates(need, 5) == []
    assert index_of([]).candidates(need, 5) == []


def test_a_volunteers_own_travel_distance_limits_them():
    index = index_of(
        [volunteer(1, km_north(2), 0.0, travel_km=1.5), volunteer(2, km_north(2), 0.1)]
    )

    found = index.candidates(Need(id=1, latitude=0.0, longitude=0.0, radius_km=20.0), 5)

    assert ids(found) == [2]


def test_a_volunteer_just_beyond_the_radius_is_not_a_candidate():
    """The radius is compared in double precision: a volunteer a few millimetres beyond it is
    out, even where the radius rounded to single precision (as travel distances are kept)
    would be larger."""
    radius = 100.3
    assert float(np.float32(radius)) - radius > 2e-6
    need = Need(id=1, latitude=0.0, longitude=0.0, radius_km=radius)
    index = index_of([volunteer(1, km_north(radius + 1e-6), 0.0, travel_km=1_000.0)])

    assert index.candidates(need, 5) == []
    assert index.count_eligible(need) == 0
    assert scan_candidates(index, need, 5) == []


def test_a_volunteer_just_beyond_the_radius_is_judged_alike_by_the_index_and_the_scan():
    """Here the volunteer lies in the next row of grid cells, which the index does not look
    in: the index and the scan disagree when the radius is rounded to single precision."""
    radius = 100.3
    need_latitude = 1.0 - km_north(radius) - 1e-8
    need = Need(id=1, latitude=need_latitude, longitude=0.0, radius_km=radius)
    beyond = need_latitude + km_north(radius + 2.5e-6)
    index = index_of([volunteer(1, beyond, 0.0, travel_km=1_000.0)])

    assert ids(index.candidates(need, 5)) == [
        volunteer_id for volunteer_id, _ in scan_candidates(index, need, 5)
    ]
