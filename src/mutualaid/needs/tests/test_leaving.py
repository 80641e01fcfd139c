"""A member who leaves a group takes nothing of its requests with them."""

import pytest

from mutualaid.groups import services as group_services
from mutualaid.needs import permissions, services
from mutualaid.needs.models import Assignment, Claim, Recurrence, Request
from mutualaid.needs.tests.factories import (
    claimed_request,
    dispatcher_of,
    make_group,
    make_request,
    member_of,
)

pytestmark = pytest.mark.django_db


def test_leaving_opens_held_requests_again_and_ends_access_to_them():
    # given
    group = make_group()
    holder = member_of(group)
    request, _holder = claimed_request(group, member=holder)
    other_group = make_group()
    group_services.group_join(group=other_group, member=holder)
    other_group_request, _holder = claimed_request(other_group, member=holder)

    # when
    group_services.group_leave(group=group, member=holder)

    # then
    request.refresh_from_db()
    assert (request.status, request.claimed_by) == (Request.Status.OPEN, None)
    claim = Claim.objects.get(request=request)
    assert (claim.release_reason, claim.released_at is not None) == ("Left the group", True)
    assert permissions.can_view_contact(holder, request) is False
    assert permissions.can_use_thread(holder, request) is False
    other_group_request.refresh_from_db()
    assert other_group_request.claimed_by == holder


def test_leaving_withdraws_assignments_and_standing_commitments():
    # given
    group = make_group()
    member = member_of(group)
    assignment = services.request_assign(
        request=make_request(group), member=member, dispatcher=dispatcher_of(group)
    )
    standing = make_request(group, recurrence=Recurrence.WEEKLY)
    services.standing_need_commit(standing_need=standing.standing_need, member=member)

    # when
    group_services.group_leave(group=group, member=member)

    # then
    assignment.refresh_from_db()
    assert assignment.answer == Assignment.Answer.WITHDRAWN
    standing.standing_need.refresh_from_db()
    assert standing.standing_need.volunteer is None


def test_a_holder_who_is_no_longer_a_member_holds_no_access():
    # given: the membership is gone but the claim is still on the row
    group = make_group()
    holder = member_of(group)
    request, _holder = claimed_request(group, member=holder)
    group.memberships.filter(member=holder).delete()

    # then
    assert permissions.holds_request(holder, request) is False
    assert permissions.can_view_contact(holder, request) is False
