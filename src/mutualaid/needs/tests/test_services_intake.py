import hashlib
import inspect
import re
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection
from django.utils import timezone

from mutualaid.common import crypto
from mutualaid.common.errors import ApplicationError
from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group
from mutualaid.needs import notifications, references, services
from mutualaid.needs.models import (
    Channel,
    Claim,
    ContactMethod,
    GroupCategory,
    Recurrence,
    Request,
    StandingNeed,
    Urgency,
)
from mutualaid.needs.tests.factories import (
    claimed_request,
    dispatcher_of,
    make_group,
    make_request,
    member_of,
)

pytestmark = pytest.mark.django_db


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def ask(group: Group, **fields):
    """request_create with a complete web request, any field overridden."""
    values = {
        "category": "shopping",
        "description": "Milk and bread",
        "name": "Margaret",
        "phone": "07700 900123",
        "contact_method": ContactMethod.PHONE,
    }
    values.update(fields)
    return services.request_create(group=group, **values)


# request_create: what is kept


def test_a_web_request_is_open_with_a_reference_and_a_secret_kept_as_a_digest_and_sealed():
    # given
    group = make_group()
    # when
    request, secret = ask(group, address="14 Acacia Avenue, M19 2QX", language="bn")
    # then
    request.refresh_from_db()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}", request.reference)
    assert len(secret) == 32
    assert request.secret_digest == hashlib.sha256(secret.encode()).hexdigest()
    assert request.secret_sealed == secret
    assert (request.status, request.channel, request.category) == ("open", "web", "shopping")
    assert (request.name, request.phone, request.address, request.language) == (
        "Margaret",
        "+447700900123",
        "14 Acacia Avenue, M19 2QX",
        "bn",
    )
    assert request.created_by is None
    assert request.paced is False


def test_personal_fields_are_encrypted_in_the_table():
    # given
    group = make_group()
    # when
    request, _secret = ask(group, address="14 Acacia Avenue", email="Rita@Example.org")
    # then
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, phone, email, address, description FROM needs_request WHERE id = %s",
            [request.pk],
        )
        stored = cursor.fetchone()
    assert all(value and "Margaret" not in value for value in stored)
    assert "+447700900123" not in stored[1]
    assert "acacia" not in stored[3].lower()
    assert "milk" not in stored[4].lower()
    request.refresh_from_db()
    assert request.email == "rita@example.org"


def test_the_secret_is_not_stored_in_clear():
    # given
    group = make_group()
    # when
    request, secret = ask(group, email="rita@example.org")
    # then
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_sealed, secret_digest FROM needs_request WHERE id = %s", [request.pk]
        )
        sealed, digest = cursor.fetchone()
    assert sealed != ""
    assert secret not in sealed
    assert secret not in digest
    assert crypto.decrypt(sealed) == secret


# request_status_url


def test_the_status_url_is_the_whole_address_of_the_requesters_page(settings):
    settings.SITE_URL = "https://aid.example.org"
    group = make_group()
    request, secret = ask(group)

    url = services.request_status_url(request)

    assert url == f"https://aid.example.org/help/{request.reference}/{secret}/"
    assert services.request_find_by_secret(reference=request.reference, secret=secret) == request


def test_there_is_no_status_url_once_the_personal_data_is_erased_or_without_a_kept_secret():
    group = make_group()
    erased, _secret = ask(group)
    erased.personal_data_erased_at = timezone.now()
    never_kept, _secret = ask(group)
    never_kept.secret_sealed = ""

    assert services.request_status_url(erased) is None
    assert services.request_status_url(never_kept) is None


def test_references_use_no_look_alike_characters():
    codes = {references.new_reference() for _ in range(300)}

    assert not set("".join(codes)) & set("01OIL")
    assert all(len(code) == 7 and code[3] == "-" for code in codes)


def test_a_reference_taken_meanwhile_is_drawn_again():
    # given: the first draw repeats an existing request's reference
    group = make_group()
    existing, _secret = ask(group)
    draws = iter([existing.reference, "ABC-DEF"])
    # when
    with mock.patch.object(references, "new_reference", side_effect=lambda: next(draws)):
        request, _secret = ask(group)
    # then
    assert request.reference == "ABC-DEF"
    assert Request.objects.count() == 2


def test_a_database_error_that_is_not_a_taken_reference_is_not_hidden():
    group = make_group()

    with (
        mock.patch.object(Request, "save", side_effect=IntegrityError("other")),
        pytest.raises(IntegrityError),
    ):
        ask(group)


def test_the_rough_point_is_the_given_location_rounded():
    group = make_group()

    request, _secret = ask(group, latitude=53.44678, longitude=-2.19321)

    request.refresh_from_db()
    assert (request.rough_latitude, request.rough_longitude) == (
        Decimal("53.45"),
        Decimal("-2.19"),
    )


def test_without_a_location_the_rough_point_is_the_chosen_areas_centre_then_the_groups():
    # given: an area with a ward inside it
    area = make_group(centre_latitude=Decimal("53.40000"), centre_longitude=Decimal("-2.10000"))
    ward = make_group(
        creator=area.created_by,
        parent=area,
        kind=Group.Kind.WARD,
        name="Longsight",
        centre_latitude=Decimal("53.46444"),
        centre_longitude=Decimal("-2.20555"),
    )
    # when
    in_ward, _secret = ask(area, area_group=ward)
    anywhere, _secret = ask(area)
    # then
    in_ward.refresh_from_db()
    anywhere.refresh_from_db()
    assert (in_ward.rough_latitude, in_ward.rough_longitude, in_ward.area_name) == (
        Decimal("53.46"),
        Decimal("-2.21"),
        "Longsight",
    )
    assert (anywhere.rough_latitude, anywhere.rough_longitude, anywhere.area_name) == (
        Decimal("53.40"),
        Decimal("-2.10"),
        "",
    )


def test_a_street_two_levels_down_is_an_area_of_the_group():
    area = make_group()
    ward = make_group(creator=area.created_by, parent=area, kind=Group.Kind.WARD)
    street = make_group(creator=area.created_by, parent=ward, kind=Group.Kind.STREET)

    request, _secret = ask(area, area_group=street, area_name="Elm Road")

    assert (request.area_group, request.area_name) == (street, "Elm Road")


def test_an_area_outside_the_group_is_refused():
    group = make_group()
    elsewhere = make_group()

    with pytest.raises(ApplicationError, match=exactly("Please choose an area inside this group.")):
        ask(group, area_group=elsewhere)


def test_a_parent_group_is_not_an_area_of_its_ward():
    area = make_group()
    ward = make_group(creator=area.created_by, parent=area, kind=Group.Kind.WARD)

    with pytest.raises(ApplicationError, match=exactly("Please choose an area inside this group.")):
        ask(ward, area_group=area)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"latitude": 53.4}, "Please give both a latitude and a longitude, or neither."),
        ({"latitude": 91, "longitude": 0}, "That location is not on the map."),
        ({"latitude": 0, "longitude": -180.01}, "That location is not on the map."),
        ({"latitude": "north", "longitude": 0}, "That location is not on the map."),
        ({"latitude": float("nan"), "longitude": 0}, "That location is not on the map."),
    ],
)
def test_a_location_off_the_map_is_refused(fields, message):
    group = make_group()

    with pytest.raises(ApplicationError, match=exactly(message)):
        ask(group, **fields)
    assert Request.objects.count() == 0


# request_create: what is asked


@pytest.mark.parametrize("category", ["", "groceries", "SHOPPING"])
def test_an_unknown_category_is_refused(category):
    group = make_group()

    with pytest.raises(
        ApplicationError, match=exactly("Please choose what kind of help from the list.")
    ):
        ask(group, category=category)


def test_a_groups_own_category_is_accepted_but_not_another_groups():
    # given
    group = make_group()
    services.group_category_add(group=group, name="School uniform", actor=group.created_by)
    other = make_group()
    # when
    request, _secret = ask(group, category="school-uniform")
    # then
    assert request.category == "school-uniform"
    with pytest.raises(ApplicationError):
        ask(other, category="school-uniform")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"description": "  "}, "Please say what you need."),
        ({"description": "x" * 2001}, "Please describe what you need in at most 2000 characters."),
        ({"name": " "}, "Please give a name we can ask for. Any name will do."),
        ({"name": "x" * 101}, "A name can be at most 100 characters."),
        (
            {"name": "<b>Rita</b>"},
            "Please use plain text in the name: the characters < and > are not allowed.",
        ),
        ({"urgency": "yesterday"}, "Please choose how soon you need help."),
        ({"contact_method": "pigeon"}, "Please choose how we can reach you."),
        (
            {"phone": ""},
            "Please give a phone number, or choose another way to reach you.",
        ),
        (
            {"contact_method": ContactMethod.SMS, "phone": ""},
            "Please give a phone number, or choose another way to reach you.",
        ),
        (
            {"contact_method": ContactMethod.EMAIL, "phone": ""},
            "Please give an email address, or choose another way to reach you.",
        ),
        (
            {"contact_method": ContactMethod.CONTACT, "phone": ""},
            "Please name the person we should go through, and how to reach them.",
        ),
        (
            {"contact_method": ContactMethod.EMAIL, "email": "rita@", "phone": ""},
            "Please enter a valid email address.",
        ),
        ({"address": "x" * 301}, "An address can be at most 300 characters."),
        ({"accessibility_notes": "x" * 1001}, "Access needs can be at most 1000 characters."),
        ({"language": "english!"}, "Unknown language."),
        ({"channel": "fax"}, "Unknown way of asking."),
        ({"recurrence": "hourly"}, "Please choose how often you need this."),
    ],
)
def test_incomplete_or_malformed_requests_are_refused_with_a_clear_message(fields, message):
    group = make_group()

    with pytest.raises(ApplicationError, match=exactly(message)):
        ask(group, **fields)
    assert Request.objects.count() == 0


@pytest.mark.parametrize("phone", ["12345", "999", "call me", "+999 1234567", "0" * 40])
def test_a_phone_number_that_cannot_be_dialled_is_refused(phone):
    group = make_group()

    with pytest.raises(
        ApplicationError,
        match=exactly("That phone number does not look complete. Please check it and try again."),
    ):
        ask(group, phone=phone)


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("07700 900123", "+447700900123"),
        ("0161 496 0011", "+441614960011"),
        ("+44 (0)7700-900123", "+447700900123"),
        ("+33 6 12 34 56 78", "+33612345678"),
    ],
)
def test_phone_numbers_are_stored_in_international_form(phone, stored):
    group = make_group()

    request, _secret = ask(group, phone=phone)

    request.refresh_from_db()
    assert request.phone == stored


def test_phone_numbers_are_read_in_the_configured_region(settings):
    settings.PHONE_REGION = "FR"
    group = make_group()

    request, _secret = ask(group, phone="06 12 34 56 78")

    assert request.phone == "+33612345678"


def test_reaching_someone_through_a_named_contact_needs_no_phone_of_their_own():
    group = make_group()

    request, _secret = ask(
        group,
        contact_method=ContactMethod.CONTACT,
        phone="",
        contact_via="My son Ade, 07700 900999",
    )

    request.refresh_from_db()
    assert (request.phone, request.contact_via, request.household_key) == (
        "",
        "My son Ade, 07700 900999",
        "",
    )


def test_no_question_about_means_or_eligibility_exists():
    asked = set(inspect.signature(services.request_create).parameters)

    forbidden = {"income", "benefits", "eligible", "eligibility", "means", "savings", "employed"}
    assert not {word for field in asked for word in forbidden if word in field}


def test_a_date_in_the_past_is_refused():
    group = make_group()
    yesterday = timezone.localdate() - timedelta(days=1)

    with pytest.raises(
        ApplicationError, match=exactly("The date you need help by cannot be in the past.")
    ):
        ask(group, needed_by=yesterday)


@pytest.mark.parametrize(
    ("urgency", "days"), [(Urgency.TODAY, 0), (Urgency.THIS_WEEK, 7), (Urgency.FLEXIBLE, None)]
)
def test_without_a_date_the_urgency_sets_the_needed_by_date(urgency, days):
    group = make_group()
    today = timezone.localdate()

    request, _secret = ask(group, urgency=urgency)

    assert request.needed_by == (None if days is None else today + timedelta(days=days))


def test_a_given_date_wins_over_the_urgency():
    group = make_group()
    later = timezone.localdate() + timedelta(days=20)

    request, _secret = ask(group, urgency=Urgency.TODAY, needed_by=later)

    assert request.needed_by == later


# channels


def test_a_dispatcher_enters_a_phone_request_and_is_recorded_as_who_took_it():
    group = make_group()
    dispatcher = dispatcher_of(group)

    request, _secret = ask(group, channel=Channel.PHONE, created_by=dispatcher)

    assert (request.channel, request.created_by) == ("phone", dispatcher)


@pytest.mark.parametrize("who", ["anonymous", "member", "expired dispatcher", "other dispatcher"])
def test_only_a_dispatcher_of_the_group_enters_phone_requests(who):
    # given
    group = make_group()
    entered_by = {
        "anonymous": lambda: None,
        "member": lambda: member_of(group),
        "expired dispatcher": lambda: _expired_dispatcher(group),
        "other dispatcher": lambda: dispatcher_of(make_group()),
    }[who]()
    # when / then
    with pytest.raises(
        PermissionDenied, match=exactly("Only a dispatcher of this group can enter phone requests.")
    ):
        ask(group, channel=Channel.PHONE, created_by=entered_by)
    assert Request.objects.count() == 0


def _expired_dispatcher(group: Group):
    from mutualaid.groups.models import RoleGrant

    dispatcher = dispatcher_of(group)
    now = timezone.now()
    RoleGrant.objects.filter(holder=dispatcher).update(
        granted_at=now - timedelta(days=40), expires_at=now - timedelta(seconds=1)
    )
    return dispatcher


def test_an_api_request_may_come_without_an_account():
    group = make_group()

    request, _secret = ask(group, channel=Channel.API)

    assert (request.channel, request.created_by) == ("api", None)


# pacing


def test_the_same_household_asking_again_for_the_same_kind_within_the_pacing_days_is_paced():
    # given: a group that paces over 7 days, and a first request
    group = make_group()
    first, _secret = ask(group, phone="07700 900123")
    # when
    same_kind, _secret = ask(group, phone="+447700900123", name="Someone else")
    other_kind, _secret = ask(group, phone="07700 900123", category="prescription")
    other_household, _secret = ask(group, phone="07700 900124")
    # then
    assert [first.paced, same_kind.paced, other_kind.paced, other_household.paced] == [
        False,
        True,
        False,
        False,
    ]
    assert first.household_key == same_kind.household_key
    assert len(first.household_key) == 64
    assert "447700900123" not in first.household_key


def test_pacing_counts_email_households_ignoring_case():
    group = make_group()
    ask(group, contact_method=ContactMethod.EMAIL, phone="", email="Rita@example.org")

    again, _secret = ask(
        group, contact_method=ContactMethod.EMAIL, phone="", email="rita@EXAMPLE.org"
    )

    assert again.paced is True


def test_pacing_ends_after_the_pacing_days():
    # given: a first request made 8 days ago in a group pacing over 7 days
    group = make_group()
    now = timezone.now()
    ask(group, now=now - timedelta(days=8))
    # when
    again, _secret = ask(group, now=now)
    # then
    assert again.paced is False


def test_a_group_with_pacing_off_never_paces():
    group = make_group()
    group.request_pacing_days = 0
    group.save()
    ask(group)

    again, _secret = ask(group)

    assert again.paced is False


def test_pacing_is_per_group():
    ask(make_group())

    elsewhere, _secret = ask(make_group())

    assert elsewhere.paced is False


def test_household_keys_still_match_after_the_field_keys_rotate(settings):
    from cryptography.fernet import Fernet

    group = make_group()
    before, _secret = ask(group)
    settings.MUTUALAID_FIELD_KEYS = [Fernet.generate_key().decode(), *settings.MUTUALAID_FIELD_KEYS]

    after, _secret = ask(group)

    assert after.paced is True
    assert after.household_key != before.household_key


# standing needs


def test_a_recurring_request_starts_a_standing_need_due_one_period_later():
    group = make_group()
    start = timezone.localdate() + timedelta(days=2)
    until = start + timedelta(days=60)

    request, _secret = ask(
        group, needed_by=start, recurrence=Recurrence.WEEKLY, recurrence_until=until
    )

    need = StandingNeed.objects.get()
    assert request.standing_need == need
    assert (need.group, need.recurrence, need.until, need.next_due, need.volunteer) == (
        group,
        "weekly",
        until,
        start + timedelta(days=7),
        None,
    )


@pytest.mark.parametrize(
    ("recurrence", "start", "next_due"),
    [
        (Recurrence.DAILY, (2031, 1, 31), (2031, 2, 1)),
        (Recurrence.FORTNIGHTLY, (2031, 1, 31), (2031, 2, 14)),
        (Recurrence.MONTHLY, (2031, 1, 31), (2031, 2, 28)),
        (Recurrence.MONTHLY, (2031, 12, 15), (2032, 1, 15)),
    ],
)
def test_the_next_occurrence_is_one_period_after_the_first(recurrence, start, next_due):
    from datetime import date

    group = make_group()

    ask(group, needed_by=date(*start), recurrence=recurrence)

    assert StandingNeed.objects.get().next_due == date(*next_due)


def test_a_standing_need_cannot_end_before_it_starts():
    group = make_group()
    start = timezone.localdate() + timedelta(days=5)

    with pytest.raises(
        ApplicationError,
        match=exactly("The last date of a repeating need must be after the first."),
    ):
        ask(group, needed_by=start, recurrence="weekly", recurrence_until=start - timedelta(1))
    assert StandingNeed.objects.count() == 0


# notification


def test_the_new_request_is_announced_after_commit(django_capture_on_commit_callbacks):
    group = make_group()

    with (
        mock.patch("mutualaid.needs.notifications.request_created_notify") as notify,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        request, _secret = ask(group)

    assert len(callbacks) == 1
    notify.enqueue.assert_called_once_with(request.pk)


def test_a_request_with_an_email_address_is_confirmed_to_the_requester_after_commit(
    django_capture_on_commit_callbacks,
):
    group = make_group()

    with (
        mock.patch("mutualaid.needs.notifications.request_created_notify") as created,
        mock.patch("mutualaid.needs.notifications.request_received_notify") as received,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        request, _secret = ask(group, email="rita@example.org")

    assert len(callbacks) == 2
    created.enqueue.assert_called_once_with(request.pk)
    received.enqueue.assert_called_once_with(request.pk)


def test_a_request_without_an_email_address_has_nobody_to_confirm_to(
    django_capture_on_commit_callbacks,
):
    group = make_group()

    with (
        mock.patch("mutualaid.needs.notifications.request_received_notify") as received,
        django_capture_on_commit_callbacks(execute=True),
    ):
        ask(group)

    received.enqueue.assert_not_called()


def test_while_notifications_are_paused_a_request_confirms_nothing(
    django_capture_on_commit_callbacks,
):
    group = make_group()

    with django_capture_on_commit_callbacks() as callbacks, notifications.paused():
        ask(group, email="rita@example.org")

    assert callbacks == []


def test_a_refused_request_announces_nothing(django_capture_on_commit_callbacks):
    group = make_group()

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ApplicationError):
        ask(group, description="")

    assert callbacks == []


# request_find_by_secret


def test_the_status_link_finds_the_request_however_the_reference_is_typed():
    group = make_group()
    request, secret = ask(group)
    typed = request.reference.lower().replace("-", " ")

    for reference in (request.reference, typed, request.reference.replace("-", "")):
        assert services.request_find_by_secret(reference=reference, secret=secret) == request


@pytest.mark.parametrize("wrong", ["secret", "reference", "both", "malformed", "erased"])
def test_a_wrong_or_erased_link_gets_one_neutral_404(wrong):
    # given
    group = make_group()
    request, secret = ask(group)
    other, _other_secret = ask(group)
    reference = request.reference
    if wrong in ("secret", "both"):
        secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    if wrong in ("reference", "both"):
        reference = other.reference
    if wrong == "malformed":
        reference = "O0I-1L!"
    if wrong == "erased":
        Request.objects.filter(pk=request.pk).update(personal_data_erased_at=timezone.now())
    # when
    with pytest.raises(ApplicationError) as refused:
        services.request_find_by_secret(reference=reference, secret=secret)
    # then
    assert (refused.value.message, refused.value.status, refused.value.code) == (
        "We could not find a request with that reference and link.",
        404,
        "not_found",
    )


def test_an_empty_secret_never_opens_a_purged_request_with_a_blank_digest():
    group = make_group()
    request, _secret = ask(group)
    Request.objects.filter(pk=request.pk).update(secret_digest="")

    with pytest.raises(ApplicationError):
        services.request_find_by_secret(reference=request.reference, secret="")


# request_cancel


def test_the_requester_cancels_an_open_request_with_their_secret():
    group = make_group()
    request, secret = ask(group)

    services.request_cancel(request=request, secret=secret)

    request.refresh_from_db()
    assert request.status == "cancelled"
    assert request.closed_at is not None


def test_a_dispatcher_cancels_a_claimed_request_and_the_claim_is_let_go():
    # given
    group = make_group()
    request, member = claimed_request(group)
    dispatcher = dispatcher_of(group)
    # when
    services.request_cancel(request=request, actor=dispatcher)
    # then
    request.refresh_from_db()
    claim = Claim.objects.get(request=request)
    assert request.status == "cancelled"
    assert (claim.member, claim.release_reason) == (member, "The request was cancelled.")
    assert claim.released_at == request.closed_at


@pytest.mark.parametrize("who", ["member", "holder", "anonymous", "other dispatcher"])
def test_only_the_requester_or_a_dispatcher_cancels(who):
    group = make_group()
    request, holder = claimed_request(group)
    actor = {
        "member": lambda: member_of(group),
        "holder": lambda: holder,
        "anonymous": lambda: None,
        "other dispatcher": lambda: dispatcher_of(make_group()),
    }[who]()

    with pytest.raises(
        PermissionDenied, match=exactly("Only a dispatcher of this group can cancel a request.")
    ):
        services.request_cancel(request=request, actor=actor)
    request.refresh_from_db()
    assert request.status == "claimed"


def test_a_wrong_secret_cancels_nothing():
    group = make_group()
    request, _secret = ask(group)
    _other, other_secret = ask(group)

    for secret in (other_secret, "", "x" * 500):
        with pytest.raises(
            PermissionDenied, match=exactly("Only the person who asked can cancel this request.")
        ):
            services.request_cancel(request=request, secret=secret)
    request.refresh_from_db()
    assert request.status == "open"


@pytest.mark.parametrize("status", ["done", "cancelled", "unmet"])
def test_a_closed_request_cannot_be_cancelled(status):
    group = make_group()
    request, secret = ask(group)
    Request.objects.filter(pk=request.pk).update(status=status, closed_at=timezone.now())

    with pytest.raises(ApplicationError) as refused:
        services.request_cancel(request=request, secret=secret)

    assert (refused.value.message, refused.value.status) == ("This request is already closed.", 409)


def test_cancelling_withdraws_a_pending_assignment():
    group = make_group()
    dispatcher = dispatcher_of(group)
    request = make_request(group)
    assignment = services.request_assign(
        request=request, member=member_of(group), dispatcher=dispatcher
    )

    services.request_cancel(request=request, secret=request.secret)

    assignment.refresh_from_db()
    assert assignment.answer == "withdrawn"


def test_a_member_who_left_the_group_cannot_be_a_dispatcher_for_phone_requests():
    group = make_group()
    dispatcher = dispatcher_of(group)
    group_services.group_leave(group=group, member=dispatcher)

    with pytest.raises(PermissionDenied):
        ask(group, channel=Channel.PHONE, created_by=dispatcher)


def test_group_categories_are_stored_by_code():
    group = make_group()

    category = services.group_category_add(
        group=group, name="Baby  clothes", actor=group.created_by
    )

    assert (category.code, category.name) == ("baby-clothes", "Baby clothes")
    assert GroupCategory.objects.filter(group=group).count() == 1
