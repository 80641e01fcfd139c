"""Random sequences of upsert, upsert_many, remove, set_load and compact leave the index holding
exactly what a plain dictionary of volunteers holds, and searching it gives what a scan of that
dictionary gives, whether the volunteers sit in the sorted part, the unsorted tail or both."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from mutualaid.matching import VolunteerIndex, index
from mutualaid.matching.reference import scan_candidates
from mutualaid.matching.tests import model
from mutualaid.matching.tests.model import Volunteer, columns_of, searching
from mutualaid.matching.tests.strategies import (
    NOW,
    PLACES,
    excluded,
    needs,
    numbered,
    points,
    volunteers,
)

IDS = st.integers(0, 40)


class IndexAgainstDictionary(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.index = VolunteerIndex()
        self.held: dict[int, Volunteer] = {}
        self.where = points()
        self.tail_limit = index.UNSORTED_AT_LEAST
        self.in_stages = False

    @initialize(
        place=st.sampled_from(PLACES),
        small_tail=st.booleans(),
        in_stages=st.booleans(),
        start=st.lists(IDS, unique=True, max_size=15),
        data=st.data(),
    )
    def start(self, place, small_tail, in_stages, start, data):
        self.where = points(place)
        self.in_stages = in_stages
        if small_tail:
            # Compaction then happens by itself after a few changes, not only when asked for.
            index.UNSORTED_AT_LEAST = 3
        crowd = [
            numbered(data.draw(volunteers(self.where)), volunteer_id) for volunteer_id in start
        ]
        self.index = VolunteerIndex.from_arrays(**columns_of(crowd))
        self.held = {volunteer.id: volunteer for volunteer in crowd}

    def teardown(self) -> None:
        index.UNSORTED_AT_LEAST = self.tail_limit

    @rule(volunteer_id=IDS, data=st.data())
    def upsert(self, volunteer_id, data):
        volunteer = numbered(data.draw(volunteers(self.where)), volunteer_id)
        self.index.upsert(volunteer_id, **volunteer.values())
        self.held[volunteer_id] = volunteer

    @rule(chosen=st.lists(IDS, unique=True, max_size=8), data=st.data())
    def upsert_many(self, chosen, data):
        crowd = [
            numbered(data.draw(volunteers(self.where)), volunteer_id) for volunteer_id in chosen
        ]
        self.index.upsert_many(**columns_of(crowd))
        self.held.update((volunteer.id, volunteer) for volunteer in crowd)

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def update_in_place(self, data):
        """Everything but the place changes, so the volunteer keeps their slot."""
        old = self.held[data.draw(st.sampled_from(sorted(self.held)))]
        new = replace(
            data.draw(volunteers(self.where)),
            id=old.id,
            latitude=old.latitude,
            longitude=old.longitude,
        )
        self.index.upsert(old.id, **new.values())
        self.held[old.id] = new

    @rule(volunteer_id=st.integers(-1, 45))
    def remove(self, volunteer_id):
        assert self.index.remove(volunteer_id) == (volunteer_id in self.held)
        self.held.pop(volunteer_id, None)

    @precondition(lambda self: self.held)
    @rule(data=st.data(), load=st.integers(0, 3))
    def set_load(self, data, load):
        volunteer_id = data.draw(st.sampled_from(sorted(self.held)))
        self.index.set_load(volunteer_id, load)
        self.held[volunteer_id] = replace(self.held[volunteer_id], load=load)

    @rule(volunteer_id=st.integers(0, 45))
    def set_load_of_somebody_unknown(self, volunteer_id):
        if volunteer_id not in self.held:
            with pytest.raises(KeyError):
                self.index.set_load(volunteer_id, 1)

    @rule()
    def compact(self):
        self.index.compact()

    @rule(data=st.data(), k=st.integers(1, 10))
    def search(self, data, k):
        need = data.draw(needs(where=self.where))
        crowd = list(self.held.values())
        exclude = data.draw(excluded(crowd))

        with searching(in_stages=self.in_stages):
            found = self.index.candidates(need, k, now=NOW, exclude=exclude)

        expected = model.ranked(crowd, need, k, now=NOW, exclude=exclude)
        assert [c.volunteer_id for c in found] == [volunteer_id for volunteer_id, _ in expected]
        scanned = scan_candidates(self.index, need, k, now=NOW, exclude=exclude)
        assert [c.volunteer_id for c in found] == [volunteer_id for volunteer_id, _ in scanned]
        assert self.index.count_eligible(need, now=NOW) == sum(
            model.eligible(need, volunteer) for volunteer in crowd
        )
        assert self.index.leftover_reason(need, now=NOW, exclude=exclude) == model.reason(
            crowd, need, exclude
        )

    @rule()
    def contents(self):
        for volunteer_id, volunteer in self.held.items():
            assert self.index.volunteer(volunteer_id) == volunteer.held()
        columns = self.index.columns()
        order = np.argsort(columns["ids"])
        expected = columns_of(sorted(self.held.values(), key=lambda volunteer: volunteer.id))
        expected["travel_km"] = [model.stored_travel(t) for t in expected["travel_km"]]
        assert set(columns) == set(expected)
        for name, values in expected.items():
            assert columns[name][order].tolist() == values, name

    @invariant()
    def same_volunteers(self):
        assert len(self.index) == len(self.held)
        for volunteer_id in range(-1, 46):
            assert (volunteer_id in self.index) == (volunteer_id in self.held)


IndexAgainstDictionary.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None, database=None
)
test_index_against_a_dictionary = IndexAgainstDictionary.TestCase
