"""Random sequences of what members, a dispatcher and the requester do to one request: the
request never ends up claimed without a claimer or with two active claims, and every step is
allowed or refused exactly as the rules say."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutualaid.common.errors import ApplicationError
from mutualaid.needs import services
from mutualaid.needs.models import Assignment, Claim, Request
from mutualaid.needs.tests.factories import dispatcher_of, make_group, make_request, member_of
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ACTIONS = ["claim", "release", "complete", "cancel", "overdue", "reopen", "assign", "accept"]
PEOPLE = 4  # three members and one outsider


@pytest.fixture
def world():
    group = make_group()
    people = [member_of(group) for _ in range(PEOPLE - 1)] + [UserFactory()]
    return group, people, dispatcher_of(group)


class Model:
    """What the rules say the request's state should be."""

    def __init__(self) -> None:
        self.status = "open"
        self.holder: int | None = None
        self.pending: int | None = None  # the person a pending assignment asks
        self.past_due = False

    def apply(self, action: str, who: int) -> bool:
        """Change the state as `action` by person `who` should; False when it must be refused."""
        member = who < PEOPLE - 1
        if action == "claim":
            if not member or self.status != "open":
                return False
            self.status, self.holder, self.pending = "claimed", who, None
        elif action in ("release", "complete"):
            if self.status != "claimed" or self.holder != who:
                return False
            self.status = "open" if action == "release" else "done"
            if action == "release":
                self.holder = None
        elif action == "cancel":
            if self.status not in ("open", "claimed"):
                return False
            self.status, self.pending = "cancelled", None
        elif action == "overdue":
            self.past_due = True
            if self.status == "open":
                self.status, self.pending = "unmet", None
        elif action == "reopen":
            if not (self.status == "unmet" or (self.status == "open" and self.past_due)):
                return False
            self.status, self.past_due = "open", False
        elif action == "assign":
            if not member or self.status != "open" or self.pending is not None:
                return False
            self.pending = who
        elif action == "accept":
            if self.pending != who or self.status != "open":
                return False
            self.status, self.holder, self.pending = "claimed", who, None
        return True


def _act(action: str, request: Request, person, dispatcher, yesterday) -> None:
    if action == "claim":
        services.request_claim(request=request, member=person)
    elif action == "release":
        services.request_release(request=request, member=person, reason="Cannot make it")
    elif action == "complete":
        services.request_complete(request=request, member=person, spent_minor=100)
    elif action == "cancel":
        services.request_cancel(request=request, secret=request.secret)
    elif action == "overdue":
        Request.objects.filter(pk=request.pk).update(needed_by=yesterday)
        services.requests_mark_unmet()
    elif action == "reopen":
        services.request_reopen(request=request, dispatcher=dispatcher, needed_by=None)
    elif action == "assign":
        services.request_assign(request=request, member=person, dispatcher=dispatcher)
    elif action == "accept":
        assignment = Assignment.objects.filter(request=request, member=person).first()
        if assignment is None:
            raise PermissionDenied
        services.assignment_accept(assignment=assignment, member=person)


def _check(request: Request, model: Model, people) -> None:
    request.refresh_from_db()
    active = list(
        Claim.objects.filter(request=request, released_at__isnull=True, done_at__isnull=True)
    )
    assert request.status == model.status
    if request.status == "claimed":
        assert request.claimed_by_id is not None
        assert [claim.member_id for claim in active] == [request.claimed_by_id]
        assert request.claimed_by_id == people[model.holder].pk
    else:
        assert active == []
    if request.status == "open":
        assert request.claimed_by_id is None
    if request.status == "done":
        assert request.claimed_by_id == people[model.holder].pk
        assert Claim.objects.filter(request=request, done_at__isnull=False).count() == 1
    pending = Assignment.objects.filter(request=request, answer="pending")
    assert [a.member_id for a in pending] == (
        [] if model.pending is None else [people[model.pending].pk]
    )
    assert Claim.objects.filter(request=request, released_at__isnull=True).count() <= 1


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=0, max_value=PEOPLE - 1)),
        max_size=25,
    )
)
def test_random_sequences_keep_one_claimer_at_most(world, steps):
    group, people, dispatcher = world
    yesterday = timezone.localdate() - timedelta(days=1)
    with transaction.atomic():
        request = make_request(group, urgency="flexible")
        model = Model()
        for action, who in steps:
            allowed = model.apply(action, who)
            try:
                _act(action, request, people[who], dispatcher, yesterday)
            except (ApplicationError, PermissionDenied):
                assert not allowed, (action, who)
            else:
                assert allowed, (action, who)
            _check(request, model, people)
        transaction.set_rollback(True)
