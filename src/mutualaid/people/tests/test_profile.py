"""The member's own profile page: what it shows, what it saves, and the audit of both."""

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from mutualaid.common.errors import ApplicationError
from mutualaid.common.models import AuditEvent
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import ALL_WEEK, Skill, User, availability_bit
from mutualaid.people.services import member_erase, member_profile_update
from mutualaid.people.tests.factories import UserFactory


def _profile_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "display_name": "Rosa",
        "languages": ["en", "pl"],
        "skills": [],
        "availability": [],
        "home_area": "M14",
        "home_latitude": "",
        "home_longitude": "",
        "travel_km": "5",
        "phone": "",
        "address": "",
        "notify_by_email": "on",
    }
    data.update(overrides)
    return data


def test_profile_needs_login(client: Client, db: None) -> None:
    # when
    response = client.get(reverse("people:profile"))

    # then
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={reverse('people:profile')}"


def test_profile_shows_own_contact_details_and_records_the_view(rosa: Client, member: User) -> None:
    # given
    member.phone = "+44 7700 900123"
    member.address = "12 Acacia Avenue, M14 5AB"
    member.save()

    # when
    response = rosa.get(reverse("people:profile"))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "rosa@example.org" in html
    assert "+44 7700 900123" in html
    assert "12 Acacia Avenue, M14 5AB" in html
    event = AuditEvent.objects.get()
    assert (event.actor, event.subject, event.reason) == (member, member, "own profile")
    assert event.fields == ["address", "email", "phone"]
    assert (event.action, event.channel, event.where) == ("view", "web", "/me/profile/")


def test_profile_links_to_account_security_tokens_export_and_delete(rosa: Client) -> None:
    # when
    html = rosa.get(reverse("people:profile")).content.decode()

    # then
    for name in (
        "account_email",
        "account_change_password",
        "mfa_index",
        "people:tokens",
        "people:export",
        "people:delete",
    ):
        assert reverse(name) in html, name


def test_profile_offers_shared_skills_and_those_of_own_groups_only(
    rosa: Client, member: User, shared_skills: list[Skill]
) -> None:
    # given
    own_group = make_group(creator=member)
    other_group = make_group()
    Skill.objects.create(name="Bike repair", group=own_group)
    Skill.objects.create(name="Boat rowing", group=other_group)

    # when
    html = rosa.get(reverse("people:profile")).content.decode()

    # then
    assert f"Bike repair ({own_group.name})" in html
    assert "Boat rowing" not in html
    for shared in ("Shopping", "Dog walking", "First aid", "Heavy lifting"):
        assert shared in html


def test_saving_the_profile_rounds_the_location_and_sets_availability_bits(
    rosa: Client, member: User, shared_skills: list[Skill]
) -> None:
    # given
    group = make_group(creator=member)
    group_skill = Skill.objects.create(name="Bike repair", group=group)
    shopping = Skill.objects.get(name="Shopping", group=None)
    monday_morning = availability_bit(0, 0)
    sunday_evening = availability_bit(6, 2)

    # when
    response = rosa.post(
        reverse("people:profile"),
        _profile_data(
            display_name="  Rosa from M14 ",
            languages=["pl", "en"],
            skills=[str(shopping.pk), str(group_skill.pk)],
            availability=[str(monday_morning), str(sunday_evening)],
            home_latitude="53.456789",
            home_longitude="-2.224999",
            travel_km="7",
            phone="+44 7700 900123",
            address="12 Acacia Avenue",
            notify_digest="on",
        ),
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("people:profile")
    member.refresh_from_db()
    assert member.display_name == "Rosa from M14"
    assert member.languages == ["en", "pl"]
    assert set(member.skills.all()) == {shopping, group_skill}
    assert member.availability == 0b1 | (1 << 20)
    assert (member.home_latitude, member.home_longitude) == (Decimal("53.46"), Decimal("-2.22"))
    assert member.travel_km == 7
    assert (member.phone, member.address) == ("+44 7700 900123", "12 Acacia Avenue")
    assert (member.notify_by_email, member.notify_digest) == (True, True)


def test_the_availability_grid_shows_the_saved_bits_checked(rosa: Client, member: User) -> None:
    # given
    member.availability = availability_bit(2, 1)
    member.save()

    # when
    form = rosa.get(reverse("people:profile")).context["form"]

    # then
    checked = [box.data["value"] for box in form["availability"] if box.data["selected"]]
    assert checked == [availability_bit(2, 1)]
    assert len(list(form["availability"])) == 21


def test_all_week_is_the_largest_availability(rosa: Client, member: User) -> None:
    # when
    rosa.post(
        reverse("people:profile"),
        _profile_data(availability=[str(1 << bit) for bit in range(21)]),
    )

    # then
    member.refresh_from_db()
    assert member.availability == ALL_WEEK


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"display_name": ""}, "display_name", "This field is required."),
        ({"display_name": "<b>Rosa</b>"}, "display_name", "are not allowed"),
        ({"display_name": "R" * 61}, "display_name", "at most 60 characters"),
        ({"home_area": "<img src=x>"}, "home_area", "are not allowed"),
        ({"languages": ["xx"]}, "languages", "Select a valid choice."),
        ({"availability": ["4194304"]}, "availability", "Select a valid choice."),
        ({"home_latitude": "91", "home_longitude": "0"}, "home_latitude", "less than or equal"),
        ({"home_latitude": "53.4"}, "home_longitude", "both latitude and longitude"),
        ({"travel_km": "201"}, "travel_km", "less than or equal to 200"),
        ({"phone": "call me maybe"}, "phone", "Please enter a phone number"),
        ({"address": "A" * 301}, "address", "at most 300 characters"),
    ],
)
def test_bad_profile_input_gives_a_form_error_and_saves_nothing(
    rosa: Client, member: User, overrides: dict[str, Any], field: str, message: str
) -> None:
    # when
    response = rosa.post(reverse("people:profile"), _profile_data(**overrides))

    # then
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    member.refresh_from_db()
    assert (member.display_name, member.languages, member.home_area) == ("Rosa", ["en"], "M14")


def test_a_skill_of_a_group_the_member_is_not_in_is_refused(rosa: Client, member: User) -> None:
    # given
    foreign = Skill.objects.create(name="Boat rowing", group=make_group())

    # when
    response = rosa.post(reverse("people:profile"), _profile_data(skills=[str(foreign.pk)]))

    # then
    assert response.status_code == 200
    assert "skills" in response.context["form"].errors
    assert list(member.skills.all()) == []


def test_a_member_only_ever_sees_their_own_profile(client: Client, member: User) -> None:
    # given
    member.phone = "+44 7700 900123"
    member.save()
    other = UserFactory(email="sam@example.org", display_name="Sam")
    client.force_login(other)

    # when
    html = client.get(reverse("people:profile")).content.decode()

    # then
    assert "sam@example.org" in html
    assert "rosa@example.org" not in html
    assert "+44 7700 900123" not in html
    event = AuditEvent.objects.get()
    assert (event.actor, event.subject) == (other, other)
    assert event.fields == ["email"]


def test_a_refused_save_records_the_contact_details_shown_again(rosa: Client, member: User) -> None:
    # given: no phone or address stored yet

    # when: the member types a phone number but leaves the name empty
    response = rosa.post(
        reverse("people:profile"), _profile_data(display_name="", phone="+44 7700 900123")
    )

    # then: the form comes back with the typed number in it, and the audit row says so
    assert response.status_code == 200
    assert 'value="+44 7700 900123"' in response.content.decode()
    event = AuditEvent.objects.get()
    assert (event.actor, event.subject, event.reason) == (member, member, "own profile")
    assert event.fields == ["email", "phone"]
    member.refresh_from_db()
    assert member.phone == ""


def test_a_refused_update_leaves_the_member_as_it_was(member: User) -> None:
    # given
    foreign = Skill.objects.create(name="Boat rowing", group=make_group())

    # when
    with pytest.raises(ApplicationError) as refusal:
        member_profile_update(
            member=member, display_name="Sam", phone="+44 7700 900123", skills=[foreign]
        )

    # then: neither the stored row nor the object in hand changed
    assert refusal.value.message == "That skill is not offered in your groups."
    assert (member.display_name, member.phone) == ("Rosa", "")
    member.refresh_from_db()
    assert (member.display_name, member.phone) == ("Rosa", "")


def test_a_save_after_the_account_was_erased_writes_nothing_back(member: User) -> None:
    # given: the same account, loaded before it was erased elsewhere
    stale = User.objects.get(pk=member.pk)
    member_erase(member=member)

    # when
    with pytest.raises(ApplicationError) as refusal:
        member_profile_update(member=stale, display_name="Rosa", phone="+44 7700 900123")

    # then
    assert refusal.value.message == "This account has already been deleted."
    erased = User.objects.get(pk=member.pk)
    assert (erased.display_name, erased.phone, erased.is_active) == ("", "", False)
    assert erased.erased_at is not None
