import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from mutualaid.common.errors import ApplicationError
from mutualaid.groups import permissions, services
from mutualaid.groups.models import (
    FOUNDING_STEWARD_DAYS,
    Group,
    JoinRequest,
    Membership,
    Role,
    RoleGrant,
)
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import Skill
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def exactly(message: str) -> str:
    """A pytest.raises pattern for the whole message and nothing else."""
    return f"^{re.escape(message)}$"


def member_of(group: Group):
    member = UserFactory()
    services.group_join(group=group, member=member)
    return member


def proposed(group: Group, *, proposer, holder, role: str = Role.DISPATCHER) -> RoleGrant:
    return services.role_grant_propose(
        group=group, proposer=proposer, holder=holder, role=role, reason="Answers the phone"
    )


def expire(grant: RoleGrant) -> None:
    """Move a grant's whole life into the past, as if its end date had passed."""
    now = timezone.now()
    RoleGrant.objects.filter(pk=grant.pk).update(
        granted_at=now - timedelta(days=10), expires_at=now - timedelta(seconds=1)
    )


# group_create


def test_creator_becomes_member_and_founding_steward_for_30_days():
    creator = UserFactory()

    group = services.group_create(
        creator=creator,
        name="Levenshulme Mutual Aid",
        centre_latitude=53.44,
        centre_longitude=-2.19,
    )

    assert group.slug == "levenshulme-mutual-aid"
    assert list(Membership.objects.filter(group=group).values_list("member", flat=True)) == [
        creator.pk
    ]
    grant = RoleGrant.objects.get(group=group)
    assert (grant.holder, grant.role, grant.proposed_by) == (creator, Role.STEWARD, creator)
    assert grant.expires_at - grant.confirmed_at == timedelta(days=FOUNDING_STEWARD_DAYS)
    assert permissions.can_edit_group(creator, group) is True


def test_slugs_never_repeat_and_never_take_a_page_address():
    first = make_group(name="New")
    second = make_group(name="New")

    assert (first.slug, second.slug) == ("new-2", "new-3")


def test_a_generated_address_taken_before_the_insert_moves_on_to_a_free_one(monkeypatch):
    # given: an address that was free when looked up, and taken by another group since
    taken = make_group(name="Elm Road")
    stale_look_ups = iter([taken.slug])
    look_up = services._unique_slug
    monkeypatch.setattr(
        services, "_unique_slug", lambda name: next(stale_look_ups, None) or look_up(name)
    )

    # when
    group = make_group(name="Elm Road")

    # then
    assert (taken.slug, group.slug) == ("elm-road", "elm-road-2")
    assert Membership.objects.filter(group=group).count() == 1


def test_a_chosen_address_that_is_taken_is_refused():
    make_group(name="Elm Road")

    with pytest.raises(
        ApplicationError, match=exactly("That web address is taken; please choose another.")
    ):
        make_group(name="Elm Road Neighbours", slug="Elm Road")

    assert list(Group.objects.values_list("slug", flat=True)) == ["elm-road"]


def test_only_members_of_a_parent_can_start_a_group_inside_it():
    area = make_group(kind=Group.Kind.AREA)
    outsider = UserFactory()

    with pytest.raises(PermissionDenied):
        make_group(creator=outsider, parent=area, kind=Group.Kind.WARD)

    assert Group.objects.filter(parent=area).count() == 0


def test_groups_nest_area_then_ward_then_street():
    creator = UserFactory()
    area = make_group(creator=creator, kind=Group.Kind.AREA)
    ward = make_group(creator=creator, parent=area, kind=Group.Kind.WARD)
    street = make_group(creator=creator, parent=ward, kind=Group.Kind.STREET)

    assert (street.parent, ward.parent) == (ward, area)
    with pytest.raises(
        ApplicationError, match=exactly("An area group can only be inside another area group.")
    ):
        make_group(creator=creator, parent=ward, kind=Group.Kind.AREA)
    with pytest.raises(
        ApplicationError, match=exactly("A street group cannot have groups inside it.")
    ):
        make_group(creator=creator, parent=street, kind=Group.Kind.STREET)
    assert Group.objects.count() == 3


# group_update


def test_a_steward_in_force_can_change_the_settings():
    steward = UserFactory()
    group = make_group(creator=steward)

    services.group_update(actor=steward, group=group, name="Renamed", retention_days=30)

    group.refresh_from_db()
    assert (group.name, group.retention_days) == ("Renamed", 30)


def test_a_member_without_the_steward_role_cannot_change_the_settings():
    group = make_group()
    member = member_of(group)

    with pytest.raises(PermissionDenied):
        services.group_update(actor=member, group=group, name="Taken over")

    group.refresh_from_db()
    assert group.name != "Taken over"


def test_an_expired_steward_grant_gives_no_power():
    steward = UserFactory()
    group = make_group(creator=steward)
    expire(RoleGrant.objects.get(group=group, holder=steward))

    assert permissions.can_edit_group(steward, group) is False
    with pytest.raises(PermissionDenied):
        services.group_update(actor=steward, group=group, name="Too late")


def test_a_group_cannot_be_put_inside_its_own_child():
    steward = UserFactory()
    area = make_group(creator=steward, kind=Group.Kind.AREA)
    inner = make_group(creator=steward, parent=area, kind=Group.Kind.AREA)

    with pytest.raises(ApplicationError, match=exactly("A group cannot be inside itself.")):
        services.group_update(actor=steward, group=area, parent=inner)

    area.refresh_from_db()
    assert area.parent is None


def test_a_steward_cannot_move_a_group_into_one_they_do_not_belong_to():
    steward = UserFactory()
    group = make_group(creator=steward, kind=Group.Kind.WARD)
    elsewhere = make_group(kind=Group.Kind.AREA)

    with pytest.raises(PermissionDenied):
        services.group_update(actor=steward, group=group, parent=elsewhere)

    group.refresh_from_db()
    assert group.parent is None


# group_join, join requests


def test_joining_an_open_group_makes_a_member():
    group = make_group()
    newcomer = UserFactory()

    result = services.group_join(group=group, member=newcomer)

    assert isinstance(result, Membership)
    assert permissions.is_member(newcomer, group) is True


def test_joining_twice_is_idempotent():
    group = make_group()
    newcomer = UserFactory()

    first = services.group_join(group=group, member=newcomer)
    second = services.group_join(group=group, member=newcomer)

    assert first.pk == second.pk
    assert Membership.objects.filter(group=group, member=newcomer).count() == 1


def test_asking_twice_to_join_a_vouching_group_keeps_one_request():
    group = make_group(join_needs_vouch=True)
    newcomer = UserFactory()

    first = services.group_join(group=group, member=newcomer, message="Hi, I live on Elm Rd")
    second = services.group_join(group=group, member=newcomer, message="again")

    assert isinstance(first, JoinRequest)
    assert first.pk == second.pk
    assert JoinRequest.objects.get(pk=first.pk).message == "Hi, I live on Elm Rd"
    assert permissions.is_member(newcomer, group) is False


def test_any_member_can_vouch_and_the_vouch_lets_them_in():
    group = make_group(join_needs_vouch=True)
    member = member_of_vouching(group)
    newcomer = UserFactory()
    join_request = services.group_join(group=group, member=newcomer)

    membership = services.join_request_vouch(join_request=join_request, voucher=member)

    assert (membership.member, membership.vouched_by) == (newcomer, member)
    join_request.refresh_from_db()
    assert (join_request.status, join_request.vouched_by) == (JoinRequest.Status.ACCEPTED, member)


def member_of_vouching(group: Group):
    """A member of a group that needs a vouch: the founder vouches them in."""
    newcomer = UserFactory()
    join_request = services.group_join(group=group, member=newcomer)
    services.join_request_vouch(join_request=join_request, voucher=group.created_by)
    return newcomer


def test_a_non_member_cannot_vouch():
    group = make_group(join_needs_vouch=True)
    join_request = services.group_join(group=group, member=UserFactory())

    with pytest.raises(PermissionDenied):
        services.join_request_vouch(join_request=join_request, voucher=UserFactory())

    join_request.refresh_from_db()
    assert join_request.status == JoinRequest.Status.PENDING


def test_a_request_answered_once_cannot_be_vouched_again():
    group = make_group(join_needs_vouch=True)
    other = member_of_vouching(group)
    join_request = services.group_join(group=group, member=UserFactory())
    services.join_request_vouch(join_request=join_request, voucher=group.created_by)

    with pytest.raises(
        ApplicationError, match=exactly("This request to join has already been answered.")
    ):
        services.join_request_vouch(join_request=join_request, voucher=other)

    join_request.refresh_from_db()
    assert join_request.vouched_by == group.created_by


def test_only_the_applicant_can_withdraw_a_request():
    group = make_group(join_needs_vouch=True)
    applicant = UserFactory()
    join_request = services.group_join(group=group, member=applicant)

    with pytest.raises(PermissionDenied):
        services.join_request_withdraw(join_request=join_request, applicant=group.created_by)
    services.join_request_withdraw(join_request=join_request, applicant=applicant)

    join_request.refresh_from_db()
    assert join_request.status == JoinRequest.Status.WITHDRAWN


def test_leaving_ends_the_roles_held_in_the_group():
    steward = UserFactory()
    group = make_group(creator=steward)

    services.group_leave(group=group, member=steward)

    assert permissions.is_member(steward, group) is False
    assert RoleGrant.objects.in_force().filter(group=group).count() == 0


@pytest.mark.parametrize("join_needs_vouch", [False, True], ids=["open", "vouching"])
def test_after_the_last_member_leaves_the_next_person_joins_straight_away(join_needs_vouch):
    # given: a group whose only member, its founder, leaves
    founder = UserFactory()
    group = make_group(creator=founder, join_needs_vouch=join_needs_vouch)
    services.group_leave(group=group, member=founder)

    # when: someone else joins; nobody is left to vouch for them
    newcomer = UserFactory()
    result = services.group_join(group=group, member=newcomer)

    # then
    assert isinstance(result, Membership)
    assert list(Membership.objects.filter(group=group).values_list("member", flat=True)) == [
        newcomer.pk
    ]
    assert RoleGrant.objects.in_force().filter(group=group).count() == 0
    assert JoinRequest.objects.filter(group=group).count() == 0


@pytest.mark.parametrize("why", ["the last member left", "vouching was turned off"])
def test_joining_straight_away_answers_ones_own_request_to_join(why):
    # given: someone waiting for a vouch, when the group stops needing one
    group = make_group(join_needs_vouch=True)
    applicant = UserFactory()
    join_request = services.group_join(group=group, member=applicant)
    if why == "the last member left":
        services.group_leave(group=group, member=group.created_by)
    else:
        services.group_update(actor=group.created_by, group=group, join_needs_vouch=False)

    # when
    membership = services.group_join(group=group, member=applicant)

    # then: they are in, and no request of theirs is left waiting
    assert isinstance(membership, Membership)
    join_request.refresh_from_db()
    assert (join_request.status, join_request.decided_at, join_request.vouched_by) == (
        JoinRequest.Status.ACCEPTED,
        membership.joined_at,
        None,
    )


def test_leaving_a_group_one_is_not_in_is_refused():
    group = make_group()

    with pytest.raises(ApplicationError, match=exactly("You are not a member of this group.")):
        services.group_leave(group=group, member=UserFactory())


# roles: the two-person rule and expiry


def test_a_proposed_role_gives_no_power_until_a_second_member_confirms_it():
    group = make_group()
    proposer, holder, confirmer = member_of(group), member_of(group), member_of(group)

    grant = proposed(group, proposer=proposer, holder=holder)
    assert permissions.holds_role(holder, group, Role.DISPATCHER) is False

    services.role_grant_confirm(grant=grant, confirmer=confirmer)

    assert permissions.holds_role(holder, group, Role.DISPATCHER) is True
    grant.refresh_from_db()
    assert (grant.proposed_by, grant.confirmed_by) == (proposer, confirmer)


@pytest.mark.parametrize("who", ["proposer", "holder"])
def test_the_proposer_and_the_holder_cannot_confirm_a_role(who):
    group = make_group()
    people = {"proposer": member_of(group), "holder": member_of(group)}
    grant = proposed(group, proposer=people["proposer"], holder=people["holder"])

    with pytest.raises(PermissionDenied):
        services.role_grant_confirm(grant=grant, confirmer=people[who])

    assert permissions.holds_role(people["holder"], group, Role.DISPATCHER) is False


def test_a_non_member_cannot_confirm_a_role():
    group = make_group()
    grant = proposed(group, proposer=member_of(group), holder=member_of(group))

    with pytest.raises(PermissionDenied):
        services.role_grant_confirm(grant=grant, confirmer=UserFactory())


def test_a_role_is_confirmed_only_once():
    group = make_group()
    holder = member_of(group)
    grant = proposed(group, proposer=member_of(group), holder=holder)
    services.role_grant_confirm(grant=grant, confirmer=member_of(group))

    with pytest.raises(
        ApplicationError,
        match=exactly("This role has already been confirmed, withdrawn or expired."),
    ):
        services.role_grant_confirm(grant=grant, confirmer=member_of(group))


def test_a_non_member_cannot_propose_a_role():
    group = make_group()

    with pytest.raises(PermissionDenied):
        proposed(group, proposer=UserFactory(), holder=member_of(group))


def test_a_role_can_only_go_to_a_member():
    group = make_group()

    with pytest.raises(
        ApplicationError, match=exactly("Roles can only be given to members of the group.")
    ):
        proposed(group, proposer=member_of(group), holder=UserFactory())


@pytest.mark.parametrize(
    ("days", "error"),
    [
        pytest.param(-1, "^The end date must be in the future.$", id="in the past"),
        pytest.param(366, "^A role can be given for at most 365 days.$", id="over a year"),
    ],
)
def test_a_role_lasts_between_now_and_a_year(days, error):
    group = make_group()

    with pytest.raises(ApplicationError, match=error):
        services.role_grant_propose(
            group=group,
            proposer=member_of(group),
            holder=member_of(group),
            role=Role.TREASURER,
            reason="Keeps the books",
            expires_at=timezone.now() + timedelta(days=days),
        )

    assert RoleGrant.objects.filter(role=Role.TREASURER).count() == 0


def test_holds_role_respects_expiry():
    group = make_group()
    holder = member_of(group)
    grant = proposed(group, proposer=member_of(group), holder=holder)
    services.role_grant_confirm(grant=grant, confirmer=member_of(group))
    assert permissions.holds_role(holder, group, Role.DISPATCHER) is True

    expire(grant)

    assert permissions.holds_role(holder, group, Role.DISPATCHER) is False


def test_a_role_stops_when_the_holder_steps_down():
    steward = UserFactory()
    group = make_group(creator=steward)
    grant = RoleGrant.objects.get(group=group, holder=steward)

    services.role_grant_step_down(grant=grant, holder=steward)

    assert permissions.can_edit_group(steward, group) is False


def test_someone_else_cannot_make_a_holder_step_down():
    steward = UserFactory()
    group = make_group(creator=steward)
    grant = RoleGrant.objects.get(group=group, holder=steward)

    with pytest.raises(PermissionDenied):
        services.role_grant_step_down(grant=grant, holder=member_of(group))

    assert permissions.can_edit_group(steward, group) is True


def test_the_proposer_withdraws_a_proposal_until_it_is_confirmed():
    # given: two proposals by the same member, one of them confirmed since
    group = make_group()
    proposer = member_of(group)
    waiting = proposed(group, proposer=proposer, holder=member_of(group))
    holder = member_of(group)
    confirmed = proposed(group, proposer=proposer, holder=holder, role=Role.TREASURER)
    services.role_grant_confirm(grant=confirmed, confirmer=member_of(group))

    # when / then: the waiting one is withdrawn; the confirmed one is the holder's to give back
    services.role_grant_step_down(grant=waiting, holder=proposer)
    with pytest.raises(PermissionDenied):
        services.role_grant_step_down(grant=confirmed, holder=proposer)

    waiting.refresh_from_db()
    assert waiting.revoked_at is not None
    assert permissions.holds_role(holder, group, Role.TREASURER) is True


def test_a_withdrawal_cannot_undo_a_confirmation_made_meanwhile():
    # given: the proposer opened the proposal before a third member confirmed it
    group = make_group()
    proposer, holder = member_of(group), member_of(group)
    seen_by_proposer = proposed(group, proposer=proposer, holder=holder)
    services.role_grant_confirm(
        grant=RoleGrant.objects.get(pk=seen_by_proposer.pk), confirmer=member_of(group)
    )

    # when / then
    with pytest.raises(
        ApplicationError,
        match=exactly("This role has already been confirmed, withdrawn or expired."),
    ):
        services.role_grant_step_down(grant=seen_by_proposer, holder=proposer)

    assert permissions.holds_role(holder, group, Role.DISPATCHER) is True


def test_withdrawing_twice_is_harmless():
    group = make_group()
    proposer = member_of(group)
    grant = proposed(group, proposer=proposer, holder=member_of(group))
    services.role_grant_step_down(grant=grant, holder=proposer)
    first = RoleGrant.objects.get(pk=grant.pk).revoked_at

    services.role_grant_step_down(grant=RoleGrant.objects.get(pk=grant.pk), holder=proposer)

    assert first is not None
    assert RoleGrant.objects.get(pk=grant.pk).revoked_at == first


@pytest.mark.parametrize("confirmed", [False, True], ids=["proposed", "confirmed"])
def test_who_may_step_down_or_withdraw(confirmed):
    # given: a grant and everyone around it
    group = make_group()
    proposer, holder, confirmer = member_of(group), member_of(group), member_of(group)
    grant = proposed(group, proposer=proposer, holder=holder)
    if confirmed:
        grant = services.role_grant_confirm(grant=grant, confirmer=confirmer)
    people = {
        "holder": holder,
        "proposer": proposer,
        "confirmer": confirmer,
        "other member": member_of(group),
        "outsider": UserFactory(),
        "visitor": AnonymousUser(),
    }

    # when
    may_step_down = {who: permissions.can_step_down(p, grant) for who, p in people.items()}
    may_withdraw = {who: permissions.can_withdraw_role_grant(p, grant) for who, p in people.items()}

    # then
    assert {who for who, yes in may_step_down.items() if yes} == {"holder"}
    assert {who for who, yes in may_withdraw.items() if yes} == (
        set() if confirmed else {"proposer"}
    )


def test_a_visitor_cannot_withdraw_a_proposal_whose_proposer_is_gone():
    # given: a proposal whose proposer's account was deleted
    group = make_group()
    proposer = member_of(group)
    grant = proposed(group, proposer=proposer, holder=member_of(group))
    proposer.delete()
    grant.refresh_from_db()
    assert grant.proposed_by_id is None

    # then: nobody stands in for the missing proposer
    assert permissions.can_withdraw_role_grant(AnonymousUser(), grant) is False


# skills


def test_any_member_can_add_a_skill_to_their_group():
    group = make_group()

    skill = services.group_skill_add(group=group, member=member_of(group), name="  Bike   repair ")

    assert (skill.name, skill.group) == ("Bike repair", group)


def test_a_non_member_cannot_add_a_skill():
    group = make_group()

    with pytest.raises(PermissionDenied):
        services.group_skill_add(group=group, member=UserFactory(), name="Bike repair")

    assert Skill.objects.filter(group=group).count() == 0


def test_a_skill_already_on_the_list_is_not_added_again():
    group = make_group()
    Skill.objects.create(name="Knitting circles")
    services.group_skill_add(group=group, member=group.created_by, name="Bike repair")

    for name in ["knitting CIRCLES", "BIKE REPAIR", "  "]:
        with pytest.raises(ApplicationError):
            services.group_skill_add(group=group, member=group.created_by, name=name)

    assert list(Skill.objects.filter(group=group).values_list("name", flat=True)) == ["Bike repair"]


def test_make_group_fields_reach_the_database():
    group = make_group(spending_limit_minor=2500, currency="EUR", radius_km=Decimal("1.5"))

    group.refresh_from_db()
    assert (group.spending_limit_minor, group.currency, group.radius_km) == (
        2500,
        "EUR",
        Decimal("1.50"),
    )


def _at_once(count: int, work) -> list:
    """Run `work` in `count` threads that start together; return results or exceptions."""
    barrier = threading.Barrier(count)
    results: list = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except Exception as error:
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_joining_at_the_same_moment_from_two_requests_makes_one_membership():
    group = make_group()
    newcomer = UserFactory()

    results = _at_once(2, lambda: services.group_join(group=group, member=newcomer).pk)

    assert all(isinstance(result, int) for result in results), results
    assert len(set(results)) == 1
    assert Membership.objects.filter(group=group, member=newcomer).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_members_confirming_at_the_same_moment_confirm_once():
    group = make_group()
    holder = member_of(group)
    grant = proposed(group, proposer=member_of(group), holder=holder)
    both = [member_of(group), member_of(group)]
    confirmers = iter(both)
    lock = threading.Lock()

    def confirm():
        with lock:
            confirmer = next(confirmers)
        return services.role_grant_confirm(grant=grant, confirmer=confirmer).pk

    results = _at_once(2, confirm)

    assert sorted(type(result).__name__ for result in results) == ["ApplicationError", "int"]
    grant.refresh_from_db()
    assert grant.confirmed_by in both


@pytest.mark.parametrize("confirmer_field", ["proposed_by", "holder"])
def test_the_database_refuses_a_grant_confirmed_by_its_proposer_or_holder(confirmer_field):
    # given: a proposed grant
    group = make_group()
    proposer, holder = UserFactory(), UserFactory()
    for person in (proposer, holder):
        services.group_join(group=group, member=person)
    grant = services.role_grant_propose(
        group=group, proposer=proposer, holder=holder, role=Role.TREASURER, reason="Books"
    )
    confirmer = getattr(grant, confirmer_field)

    # when / then: even a write that skips the service cannot break the two-person rule
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleGrant.objects.filter(pk=grant.pk).update(
            confirmed_by=confirmer, confirmed_at=timezone.now()
        )


def _one_each(values: list, work):
    """A function for _at_once that hands each thread the next of `values`."""
    lock = threading.Lock()
    left = list(values)

    def run():
        with lock:
            value = left.pop(0)
        return work(value)

    return run


@pytest.mark.django_db(transaction=True)
def test_two_groups_of_the_same_name_started_at_once_get_two_addresses():
    start = _one_each(
        [UserFactory(), UserFactory()],
        lambda creator: make_group(creator=creator, name="Elm Road").slug,
    )

    results = _at_once(2, start)

    assert sorted(map(str, results)) == ["elm-road", "elm-road-2"]
    assert Membership.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_groups_choosing_the_same_address_at_once_make_one_group():
    start = _one_each(
        [UserFactory(), UserFactory()],
        lambda creator: make_group(creator=creator, name="Elm Road", slug="elm-road").slug,
    )

    results = _at_once(2, start)

    assert sorted(map(str, results)) == [
        "That web address is taken; please choose another.",
        "elm-road",
    ]
    assert Group.objects.count() == 1
    assert Membership.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_spellings_of_a_skill_added_at_once_are_added_once():
    group = make_group()
    add = _one_each(
        ["Bike repair", "BIKE REPAIR"],
        lambda name: services.group_skill_add(group=group, member=group.created_by, name=name),
    )

    results = _at_once(2, add)

    assert sorted(type(result).__name__ for result in results) == ["ApplicationError", "Skill"]
    assert [str(r) for r in results if isinstance(r, ApplicationError)] == [
        "That skill is already on the list."
    ]
    assert Skill.objects.filter(group=group).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_members_vouching_at_once_let_the_newcomer_in_once():
    group = make_group(join_needs_vouch=True)
    newcomer = UserFactory()
    join_request = services.group_join(group=group, member=newcomer)
    vouch = _one_each(
        [group.created_by, member_of_vouching(group)],
        lambda voucher: services.join_request_vouch(join_request=join_request, voucher=voucher),
    )

    results = _at_once(2, vouch)

    assert sorted(type(result).__name__ for result in results) == [
        "ApplicationError",
        "Membership",
    ]
    assert [str(r) for r in results if isinstance(r, ApplicationError)] == [
        "This request to join has already been answered."
    ]
    assert Membership.objects.filter(group=group, member=newcomer).count() == 1


@pytest.mark.django_db(transaction=True)
def test_asking_to_join_twice_at_once_keeps_one_request():
    group = make_group(join_needs_vouch=True)
    newcomer = UserFactory()

    results = _at_once(2, lambda: services.group_join(group=group, member=newcomer).pk)

    assert all(isinstance(result, int) for result in results), results
    assert len(set(results)) == 1
    assert JoinRequest.objects.filter(group=group, applicant=newcomer).count() == 1
