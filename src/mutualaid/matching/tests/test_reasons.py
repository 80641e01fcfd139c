"""`leftover_reason` names the first rule that leaves nobody, in the documented order (range,
skill or language, availability, capacity); `count_eligible` counts whoever fits."""

from hypothesis import given, settings
from hypothesis import strategies as st

from mutualaid.matching import Need, Reason
from mutualaid.matching.tests import model
from mutualaid.matching.tests.model import Volunteer, index_of, km_north
from mutualaid.matching.tests.strategies import NOW, PLACES, crowds, excluded, needs, points

DRIVING, SHOPPING = 0b01, 0b10
POLISH, ENGLISH = 0b01, 0b10
MONDAY_MORNING, MONDAY_EVENING = 0b001, 0b100


def at(volunteer_id: int, kilometres_north: float, **values) -> Volunteer:
    travel_km = values.pop("travel_km", 50.0)
    return Volunteer(volunteer_id, km_north(kilometres_north), 0.0, travel_km, **values)


NEED = Need(
    id=1,
    latitude=0.0,
    longitude=0.0,
    radius_km=5.0,
    skills=DRIVING,
    languages=POLISH,
    window=MONDAY_MORNING,
)
FITS = {"skills": DRIVING, "languages": POLISH, "availability": MONDAY_MORNING}


def test_nobody_in_range():
    index = index_of(
        [
            at(1, 6.0, **FITS),  # beyond the need's radius
            at(2, 3.0, travel_km=2.0, **FITS),  # beyond their own travel distance
        ]
    )

    assert index.leftover_reason(NEED) == Reason.NOBODY_IN_RANGE
    assert index.count_eligible(NEED) == 0


def test_nobody_in_range_in_an_empty_index():
    assert index_of([]).leftover_reason(NEED) == Reason.NOBODY_IN_RANGE
    assert index_of([]).count_eligible(NEED) == 0


def test_only_people_without_the_skill_or_the_language():
    without_skill = {**FITS, "skills": SHOPPING}
    without_language = {**FITS, "languages": ENGLISH}
    index = index_of(
        [
            at(1, 1.0, **without_skill),
            at(2, 1.0, **without_language),
            at(3, 6.0, **FITS),  # would do, but out of range
        ]
    )

    assert index.leftover_reason(NEED) == Reason.NO_SKILL_OR_LANGUAGE
    assert index.count_eligible(NEED) == 0


def test_a_volunteer_needs_every_required_skill_and_one_shared_language():
    need = Need(1, 0.0, 0.0, 5.0, skills=DRIVING | SHOPPING, languages=POLISH | ENGLISH)
    index = index_of(
        [
            at(1, 1.0, skills=DRIVING, languages=POLISH),
            at(2, 1.0, skills=DRIVING | SHOPPING | 0b100, languages=ENGLISH | 0b100),
        ]
    )

    assert [c.volunteer_id for c in index.candidates(need, 5)] == [2]
    assert index.count_eligible(need) == 1
    assert index.leftover_reason(need) is None


def test_only_people_unavailable_in_the_window():
    index = index_of(
        [
            at(1, 1.0, **{**FITS, "availability": MONDAY_EVENING}),
            at(2, 1.0, **{**FITS, "availability": 0}),  # has not said when they are free
        ]
    )

    assert index.leftover_reason(NEED) == Reason.NOT_AVAILABLE
    assert index.count_eligible(NEED) == 0
    anytime = Need(1, 0.0, 0.0, 5.0, skills=DRIVING, languages=POLISH)
    assert index.leftover_reason(anytime) is None
    assert index.count_eligible(anytime) == 2


def test_all_at_capacity():
    index = index_of(
        [
            at(1, 1.0, capacity=2, load=2, **FITS),
            at(2, 1.0, capacity=0, **FITS),
            at(3, 1.0, capacity=1, load=3, **FITS),
        ]
    )

    assert index.leftover_reason(NEED) == Reason.AT_CAPACITY
    assert index.count_eligible(NEED) == 0
    index.set_load(1, 1)
    assert index.leftover_reason(NEED) is None
    assert index.count_eligible(NEED) == 1


def test_the_first_rule_that_leaves_nobody_is_the_reason():
    # Each volunteer passes one more rule than the one before; the last is full.
    index = index_of(
        [
            at(1, 9.0, **FITS),
            at(2, 1.0, **{**FITS, "skills": 0}),
            at(3, 1.0, **{**FITS, "availability": MONDAY_EVENING}),
            at(4, 1.0, capacity=1, load=1, **FITS),
        ]
    )

    assert index.leftover_reason(NEED) == Reason.AT_CAPACITY
    index.remove(4)
    assert index.leftover_reason(NEED) == Reason.NOT_AVAILABLE
    index.remove(3)
    assert index.leftover_reason(NEED) == Reason.NO_SKILL_OR_LANGUAGE
    index.remove(2)
    assert index.leftover_reason(NEED) == Reason.NOBODY_IN_RANGE


def test_excluded_volunteers_do_not_count_for_the_reason():
    index = index_of([at(1, 1.0, **FITS), at(2, 1.0, capacity=0, **FITS)])

    assert index.leftover_reason(NEED, exclude={1}) == Reason.AT_CAPACITY
    assert index.leftover_reason(NEED, exclude=[1, 2]) == Reason.NOBODY_IN_RANGE
    assert index.leftover_reason(NEED, exclude={7}) is None


def test_count_eligible_counts_volunteers_on_duty_once():
    index = index_of(
        [
            at(1, 1.0, on_duty_until=NOW + 60, **FITS),
            at(2, 2.0, on_duty_until=NOW - 60, **FITS),
            at(3, 3.0, **FITS),
            at(4, 4.0, on_duty_until=NOW + 60, capacity=0, **FITS),
        ]
    )

    assert index.count_eligible(NEED, now=NOW) == 3
    assert index.count_eligible(NEED, now=0.0) == 3


def test_reasons_are_strings_for_storing_and_showing():
    assert [reason.value for reason in Reason] == [
        "nobody_in_range",
        "no_skill_or_language",
        "not_available",
        "at_capacity",
    ]
    assert Reason("at_capacity") is Reason.AT_CAPACITY
    assert Reason.NOT_AVAILABLE == "not_available"


@settings(max_examples=100, deadline=None, database=None)
@given(st.data())
def test_reason_and_count_follow_the_rules(data):
    where = points(data.draw(st.sampled_from(PLACES)))
    crowd = data.draw(crowds(where=where))
    need = data.draw(needs(where))
    exclude = data.draw(excluded(crowd))
    index = index_of(crowd)

    assert index.leftover_reason(need, now=NOW, exclude=exclude) == model.reason(
        crowd, need, exclude
    )
    assert index.count_eligible(need, now=NOW) == sum(model.eligible(need, v) for v in crowd)
    # Somebody fits exactly when there is no reason why nobody does.
    anybody = bool(index.candidates(need, 1, now=NOW, exclude=exclude))
    assert anybody == (index.leftover_reason(need, now=NOW, exclude=exclude) is None)
