"""Building and changing a `VolunteerIndex`: what it accepts and refuses, and what `volunteer`,
`columns`, `len`, `in`, `remove` and `set_load` answer. Also the distance formula itself."""

import math

import numpy as np
import pytest

from mutualaid.matching import Need, VolunteerIndex
from mutualaid.matching.scoring import EARTH_RADIUS_KM, distances_km
from mutualaid.matching.tests.model import Volunteer, columns_of, index_of

DEFAULTS = {
    "skills": 0,
    "languages": 0,
    "availability": 0,
    "capacity": 1,
    "load": 0,
    "recent_tasks": 0,
    "on_duty_until": 0.0,
}


def two() -> dict[str, list]:
    return {"ids": [1, 2], "latitude": [0.0, 0.01], "longitude": [0.0, 0.0], "travel_km": [5, 5]}


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("latitude", [0.0, 90.5]),
        ("latitude", [-91.0, 0.0]),
        ("latitude", [float("nan"), 0.0]),
        ("longitude", [180.01, 0.0]),
        ("longitude", [0.0, -181.0]),
        ("ids", [1, -2]),
        ("ids", [3, 3]),
        ("travel_km", [-1.0, 5.0]),
        ("capacity", [1, -1]),
    ],
)
def test_bad_values_are_refused(name, values):
    with pytest.raises(ValueError, match=r"."):
        VolunteerIndex.from_arrays(**{**two(), name: values})
    index = VolunteerIndex()
    with pytest.raises(ValueError, match=r"."):
        index.upsert_many(**{**two(), name: values})
    assert len(index) == 0


def test_a_bad_latitude_in_a_single_upsert_is_refused():
    index = VolunteerIndex()

    with pytest.raises(ValueError, match="Latitudes"):
        index.upsert(1, latitude=95.0, longitude=0.0, travel_km=1.0)
    with pytest.raises(ValueError, match="ids"):
        index.upsert(-1, latitude=0.0, longitude=0.0, travel_km=1.0)


def test_duplicate_ids_in_one_call_are_refused():
    with pytest.raises(ValueError, match="once"):
        VolunteerIndex.from_arrays(**{**two(), "ids": [7, 7]})


def test_unknown_and_missing_columns_are_refused():
    with pytest.raises(TypeError, match="colour"):
        VolunteerIndex.from_arrays(**two(), colour=["red", "blue"])
    with pytest.raises(TypeError, match="travel_km"):
        VolunteerIndex.from_arrays(ids=[1], latitude=[0.0], longitude=[0.0])
    index = VolunteerIndex()
    with pytest.raises(TypeError, match="colour"):
        index.upsert(1, latitude=0.0, longitude=0.0, travel_km=1.0, colour="red")


def test_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match=r"."):
        VolunteerIndex.from_arrays(**{**two(), "latitude": [0.0, 0.0, 0.0]})


def test_a_refused_change_leaves_the_index_as_it_was():
    index = VolunteerIndex.from_arrays(**two())
    before = index.volunteer(1)

    with pytest.raises(ValueError, match=r"."):
        index.upsert_many(ids=[1, 3], latitude=[10.0, 95.0], longitude=[0.0, 0.0], travel_km=1)

    assert len(index) == 2
    assert 3 not in index
    assert index.volunteer(1) == before


def test_volunteer_gives_everything_held_with_defaults():
    index = VolunteerIndex.from_arrays(**two())
    index.upsert(
        9,
        latitude=-33.9,
        longitude=151.2,
        travel_km=2.5,
        skills=1 << 63,
        languages=1 << 40,
        availability=1 << 20,
        capacity=3,
        load=1,
        recent_tasks=4,
        on_duty_until=1_700_000_000.0,
    )

    assert index.volunteer(1) == {
        "ids": 1,
        "latitude": 0.0,
        "longitude": 0.0,
        "travel_km": 5.0,
        **DEFAULTS,
    }
    assert index.volunteer(9) == {
        "ids": 9,
        "latitude": -33.9,
        "longitude": 151.2,
        "travel_km": 2.5,
        "skills": 1 << 63,
        "languages": 1 << 40,
        "availability": 1 << 20,
        "capacity": 3,
        "load": 1,
        "recent_tasks": 4,
        "on_duty_until": 1_700_000_000.0,
    }
    with pytest.raises(KeyError):
        index.volunteer(3)
    with pytest.raises(KeyError):
        index.volunteer(-1)


def test_an_upsert_replaces_everything_known_about_a_volunteer():
    index = VolunteerIndex()
    index.upsert(4, latitude=1.0, longitude=2.0, travel_km=3.0, skills=5, capacity=2, load=1)

    index.upsert(4, latitude=1.0, longitude=2.0, travel_km=3.0)

    assert index.volunteer(4) == {
        "ids": 4,
        "latitude": 1.0,
        "longitude": 2.0,
        "travel_km": 3.0,
        **DEFAULTS,
    }
    assert len(index) == 1


def test_a_volunteer_who_moves_is_found_only_where_they_are_now():
    index = VolunteerIndex.from_arrays(**two())
    here = Need(id=1, latitude=0.0, longitude=0.0, radius_km=0.5)
    there = Need(id=2, latitude=45.0, longitude=45.0, radius_km=0.5)

    index.upsert(1, latitude=45.0, longitude=45.0, travel_km=5.0)

    assert [c.volunteer_id for c in index.candidates(here, 5)] == []
    assert [c.volunteer_id for c in index.candidates(there, 5)] == [1]
    index.compact()
    assert [c.volunteer_id for c in index.candidates(here, 5)] == []
    assert [c.volunteer_id for c in index.candidates(there, 5)] == [1]


def test_columns_are_copies_of_every_volunteer_held():
    crowd = [Volunteer(i, 0.001 * i, 0.0, 1.0, skills=i) for i in range(5)]
    index = index_of(crowd)
    index.remove(2)
    index.upsert(7, latitude=0.5, longitude=0.5, travel_km=1.0, load=1)

    columns = index.columns()

    order = np.argsort(columns["ids"])
    assert set(columns) == {"ids", "latitude", "longitude", "travel_km", *DEFAULTS}
    assert columns["ids"][order].tolist() == [0, 1, 3, 4, 7]
    assert columns["skills"][order].tolist() == [0, 1, 3, 4, 0]
    assert columns["load"][order].tolist() == [0, 0, 0, 0, 1]
    columns["load"][:] = 99
    columns["latitude"][:] = 0.0
    assert index.volunteer(7)["load"] == 1
    assert index.volunteer(7)["latitude"] == 0.5


def test_length_membership_and_removal():
    index = VolunteerIndex.from_arrays(**columns_of([Volunteer(i, 0.0, 0.0, 1.0) for i in [3, 5]]))

    assert len(index) == 2
    assert 3 in index
    assert np.int64(5) in index
    assert 4 not in index
    assert -1 not in index
    assert 10**9 not in index
    assert "3" not in index
    assert index.remove(3) is True
    assert index.remove(3) is False
    assert index.remove(-1) is False
    assert index.remove(10**9) is False
    assert 3 not in index
    assert len(index) == 1


def test_set_load_changes_who_has_room():
    index = VolunteerIndex.from_arrays(**{**two(), "capacity": [2, 1]})
    need = Need(id=1, latitude=0.0, longitude=0.0, radius_km=3.0)

    index.set_load(1, 2)

    assert index.volunteer(1)["load"] == 2
    assert [c.volunteer_id for c in index.candidates(need, 5)] == [2]
    index.set_load(1, 1)
    assert [c.volunteer_id for c in index.candidates(need, 5)] == [1, 2]
    with pytest.raises(KeyError):
        index.set_load(3, 1)


def test_ending_duty_by_upsert_puts_a_volunteer_back_in_line():
    index = VolunteerIndex.from_arrays(**two())
    need = Need(id=1, latitude=0.0, longitude=0.0, radius_km=3.0)
    index.upsert(2, latitude=0.01, longitude=0.0, travel_km=5, on_duty_until=100.0)
    assert [c.volunteer_id for c in index.candidates(need, 5, now=50.0)] == [2, 1]

    index.upsert(2, latitude=0.01, longitude=0.0, travel_km=5, on_duty_until=0.0)

    assert [c.volunteer_id for c in index.candidates(need, 5, now=50.0)] == [1, 2]
    assert [c.on_duty for c in index.candidates(need, 5, now=50.0)] == [False, False]


def test_many_changes_are_compacted_on_the_way_without_losing_anyone():
    index = VolunteerIndex()
    rng = np.random.default_rng(7)
    for start in range(0, 12_000, 3_000):
        ids = np.arange(start, start + 3_000)
        index.upsert_many(
            ids=ids,
            latitude=rng.uniform(51.4, 51.6, len(ids)),
            longitude=rng.uniform(-0.2, 0.0, len(ids)),
            travel_km=5.0,
        )
    for volunteer_id in range(0, 12_000, 2):
        index.remove(volunteer_id)

    assert len(index) == 6_000
    assert sorted(index.columns()["ids"].tolist()) == list(range(1, 12_000, 2))
    need = Need(id=1, latitude=51.5, longitude=-0.1, radius_km=0.2)
    found = [c.volunteer_id for c in index.candidates(need, 50)]
    assert found
    assert all(volunteer_id % 2 for volunteer_id in found)


def test_great_circle_distances():
    quarter = math.pi / 2 * EARTH_RADIUS_KM

    away = distances_km(
        0.0,
        0.0,
        np.array([1.0, 0.0, 90.0, 0.0, -90.0, 0.0]),
        np.array([0.0, 90.0, 0.0, 180.0, 77.0, -180.0]),
    )

    assert away.tolist() == pytest.approx(
        [math.radians(1) * EARTH_RADIUS_KM, quarter, quarter, 2 * quarter, quarter, 2 * quarter]
    )
    # Either side of the antimeridian, and across a pole.
    assert distances_km(0.0, 179.9, np.array([0.0]), np.array([-179.9]))[0] == pytest.approx(
        math.radians(0.2) * EARTH_RADIUS_KM
    )
    assert distances_km(89.0, 0.0, np.array([89.0]), np.array([180.0]))[0] == pytest.approx(
        math.radians(2.0) * EARTH_RADIUS_KM
    )
    # London to Paris by the spherical law of cosines.
    london, paris = (51.5074, -0.1278), (48.8566, 2.3522)
    phi1, phi2 = math.radians(london[0]), math.radians(paris[0])
    cosine = math.sin(phi1) * math.sin(phi2) + math.cos(phi1) * math.cos(phi2) * math.cos(
        math.radians(paris[1] - london[1])
    )
    assert distances_km(*london, np.array([paris[0]]), np.array([paris[1]]))[0] == pytest.approx(
        math.acos(cosine) * EARTH_RADIUS_KM, rel=1e-9
    )
