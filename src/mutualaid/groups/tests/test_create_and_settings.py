from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from mutualaid.groups import permissions, services
from mutualaid.groups.forms import GroupForm
from mutualaid.groups.models import Group, Role, RoleGrant
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import Skill
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CREATE_URL = "/groups/new/"


def group_data(**overrides):
    data = {
        "name": "Elm Road Neighbours",
        "description": "We share tools and <script>alert(1)</script> food.",
        "kind": Group.Kind.STREET,
        "parent": "",
        "place": "Levenshulme",
        "centre_latitude": "53.4412345",
        "centre_longitude": "-2.1912",
        "radius_km": "0.5",
        "languages": ["en", "pl"],
        "hotline_phone": "+44 161 496 0000",
        "contact_email": "elm@example.org",
        "retention_days": "30",
        "request_pacing_days": "14",
        "match_radius_km": "8",
        "answer_within_hours": "6",
        "join_needs_vouch": "on",
        "spending_limit": "25.50",
        "reimbursement_limit": "20",
        "currency": "eur",
        "decision_rule": "consensus_then_vote",
        "quorum_percent": "40",
        "fallback_majority_percent": "75",
        "publishes_fund_summary": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def settings_url(group: Group) -> str:
    return reverse("groups:edit", kwargs={"slug": group.slug})


# Starting a group


def test_starting_a_group_needs_a_login(client):
    response = client.get(reverse("groups:create"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_create_form_offers_every_spoken_language(client):
    client.force_login(UserFactory())

    html = client.get(CREATE_URL).content.decode()

    assert 'type="checkbox" name="languages" value="ur"' in html
    assert 'type="checkbox" name="languages" value="cy"' in html
    assert '<label for="id_name">' in html


def test_starting_a_group_makes_the_creator_its_founding_steward(client):
    creator = UserFactory()
    client.force_login(creator)

    response = client.post(CREATE_URL, group_data())

    group = Group.objects.get()
    assert response.status_code == 302
    assert response.url == f"/groups/{group.slug}/"
    assert group.slug == "elm-road-neighbours"
    assert (group.kind, group.place, group.languages) == (
        Group.Kind.STREET,
        "Levenshulme",
        ["en", "pl"],
    )
    assert (group.centre_latitude, group.centre_longitude) == (
        Decimal("53.44123"),
        Decimal("-2.19120"),
    )
    assert group.radius_km == Decimal("0.50")
    assert group.hotline_phone == "+441614960000"
    assert (group.contact_email, group.retention_days, group.join_needs_vouch) == (
        "elm@example.org",
        30,
        True,
    )
    assert (group.spending_limit_minor, group.reimbursement_limit_minor, group.currency) == (
        2550,
        2000,
        "EUR",
    )
    assert (
        group.decision_rule,
        group.quorum_percent,
        group.fallback_majority_percent,
        group.publishes_fund_summary,
    ) == ("consensus_then_vote", 40, 75, True)
    assert group.request_pacing_days == 14
    assert (group.match_radius_km, group.answer_within_hours) == (8, 6)
    assert group.description == "We share tools and <script>alert(1)</script> food."
    assert permissions.is_member(creator, group) is True
    assert permissions.can_edit_group(creator, group) is True


def test_a_description_with_markup_is_shown_as_text(client):
    client.force_login(UserFactory())
    client.post(CREATE_URL, group_data())

    html = client.get("/groups/elm-road-neighbours/").content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@override_settings(PHONE_REGION="GB")
def test_a_national_phone_number_is_read_in_the_configured_region(client):
    client.force_login(UserFactory())

    client.post(CREATE_URL, group_data(hotline_phone="0161 496 0000"))

    assert Group.objects.get().hotline_phone == "+441614960000"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "", "This field is required."),
        ("name", "x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("hotline_phone", "call me", "Enter a phone number, for example +44 161 496 0000."),
        ("hotline_phone", "+44 161 496 000", "This is not a valid phone number."),
        ("contact_email", "not-an-email", "Enter a valid email address."),
        ("centre_latitude", "91", "Ensure this value is less than or equal to 90."),
        ("centre_longitude", "east", "Enter a number."),
        ("radius_km", "0", "Ensure this value is greater than or equal to 0.1."),
        ("retention_days", "0", "Ensure this value is greater than or equal to 1."),
        ("request_pacing_days", "91", "Ensure this value is less than or equal to 90."),
        ("request_pacing_days", "-1", "Ensure this value is greater than or equal to 0."),
        ("match_radius_km", "0", "Ensure this value is greater than or equal to 1."),
        ("match_radius_km", "201", "Ensure this value is less than or equal to 200."),
        ("answer_within_hours", "0", "Ensure this value is greater than or equal to 1."),
        ("answer_within_hours", "169", "Ensure this value is less than or equal to 168."),
        ("languages", ["xx"], "Select a valid choice. xx is not one of the available choices."),
        ("currency", "E1R", "Enter a three-letter currency code."),
        ("spending_limit", "-1", "Ensure this value is greater than or equal to 0."),
        ("kind", "city", "Select a valid choice. city is not one of the available choices."),
    ],
)
def test_bad_input_is_a_form_error_and_saves_nothing(client, field, value, error):
    client.force_login(UserFactory())

    response = client.post(CREATE_URL, group_data(**{field: value}))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert Group.objects.count() == 0


def test_a_parent_must_be_a_group_the_creator_belongs_to(client):
    mine = make_group(kind=Group.Kind.AREA)
    not_mine = make_group(name="Elsewhere", kind=Group.Kind.AREA)
    client.force_login(mine.created_by)

    html = client.get(CREATE_URL).content.decode()
    response = client.post(CREATE_URL, group_data(parent=not_mine.pk))

    assert f'<option value="{mine.pk}">' in html
    assert f'<option value="{not_mine.pk}">' not in html
    assert "Select a valid choice." in response.content.decode()
    assert Group.objects.filter(parent=not_mine).count() == 0


def test_a_group_inside_a_smaller_kind_is_a_form_error(client):
    street = make_group(kind=Group.Kind.STREET)
    client.force_login(street.created_by)

    response = client.post(CREATE_URL, group_data(parent=street.pk, kind=Group.Kind.STREET))

    assert response.status_code == 200
    assert "A street group cannot have groups inside it." in response.content.decode()
    assert Group.objects.count() == 1


def test_a_group_inside_one_the_creator_belongs_to(client):
    ward = make_group(kind=Group.Kind.WARD)
    client.force_login(ward.created_by)

    client.post(CREATE_URL, group_data(parent=ward.pk))

    assert Group.objects.get(slug="elm-road-neighbours").parent == ward


@pytest.mark.parametrize("editing", [False, True], ids=["start", "settings"])
def test_the_form_shows_every_field_and_gives_the_services_what_they_take(editing):
    # given: the form filled in, to start a group or to change one
    group = make_group() if editing else None
    user = group.created_by if group else UserFactory()
    data = group_data(kind=None) if editing else group_data()
    form = GroupForm(data, instance=group, user=user)

    # when
    assert form.is_valid(), form.errors
    shown = {field.name for _legend, fields in form.sections() for field in fields}

    # then: the kind is chosen only when a group starts
    assert shown == set(form.fields)
    assert set(form.group_fields()) == services.EDITABLE_GROUP_FIELDS | (
        set() if editing else {"kind"}
    )


# Settings


def test_a_steward_sees_the_settings_filled_in(client):
    group = make_group(spending_limit_minor=1250, currency="USD", languages=["fr"])
    client.force_login(group.created_by)

    html = client.get(settings_url(group)).content.decode()

    assert 'name="spending_limit" value="12.50"' in html
    assert 'value="fr" id="id_languages_4" checked' in html
    assert 'name="kind"' not in html


def test_a_steward_changes_the_settings(client):
    group = make_group()
    client.force_login(group.created_by)

    response = client.post(
        settings_url(group),
        group_data(name="Renamed", kind=None, join_needs_vouch=None, spending_limit="100"),
    )

    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.join_needs_vouch, group.spending_limit_minor) == (
        "Renamed",
        False,
        10000,
    )
    assert group.kind == Group.Kind.AREA


def test_a_rejected_change_saves_nothing(client):
    group = make_group(name="Kept")
    client.force_login(group.created_by)

    response = client.post(settings_url(group), group_data(name="New name", contact_email="bad"))

    assert response.status_code == 200
    assert "<h1>Settings of Kept</h1>" in response.content.decode()
    group.refresh_from_db()
    assert group.name == "Kept"


def test_a_member_who_is_not_a_steward_cannot_open_the_settings(client):
    group = make_group()
    member = UserFactory()
    client.force_login(member)
    client.post(reverse("groups:join", args=[group.slug]))

    assert client.get(settings_url(group)).status_code == 403
    assert client.post(settings_url(group), group_data(name="Taken")).status_code == 403
    group.refresh_from_db()
    assert group.name != "Taken"


def test_a_non_member_cannot_open_the_settings(client):
    group = make_group()
    client.force_login(UserFactory())

    assert client.get(settings_url(group)).status_code == 403


def test_a_steward_whose_grant_expired_cannot_open_the_settings(client):
    group = make_group()
    now = timezone.now()
    RoleGrant.objects.filter(group=group, role=Role.STEWARD).update(
        granted_at=now - timedelta(days=31), expires_at=now - timedelta(seconds=1)
    )
    client.force_login(group.created_by)

    assert client.get(settings_url(group)).status_code == 403
    assert "Group settings" not in client.get(f"/groups/{group.slug}/").content.decode()


def test_only_a_steward_sees_the_settings_link(client):
    group = make_group()
    member = UserFactory()
    client.force_login(member)
    client.post(reverse("groups:join", args=[group.slug]))

    assert settings_url(group) not in client.get(f"/groups/{group.slug}/").content.decode()
    client.force_login(group.created_by)
    assert settings_url(group) in client.get(f"/groups/{group.slug}/").content.decode()


# Skills


def test_a_member_adds_a_group_skill(client):
    group = make_group()
    client.force_login(group.created_by)

    response = client.post(reverse("groups:skills", args=[group.slug]), {"name": "Sign language"})

    assert response.status_code == 302
    assert list(Skill.objects.filter(group=group).values_list("name", flat=True)) == [
        "Sign language"
    ]
    html = client.get(reverse("groups:skills", args=[group.slug])).content.decode()
    assert "<li>Sign language</li>" in html


def test_a_skill_on_the_list_already_is_a_form_error(client):
    group = make_group()
    Skill.objects.create(name="Sign language")
    client.force_login(group.created_by)

    response = client.post(reverse("groups:skills", args=[group.slug]), {"name": "sign LANGUAGE"})

    assert response.status_code == 200
    assert "That skill is already on the list." in response.content.decode()
    assert Skill.objects.filter(group=group).count() == 0


def test_a_visitor_sees_the_skills_but_cannot_add_one(client):
    group = make_group()
    Skill.objects.create(name="Bread baking", group=group)

    html = client.get(reverse("groups:skills", args=[group.slug])).content.decode()
    response = client.post(reverse("groups:skills", args=[group.slug]), {"name": "Juggling"})

    assert "<li>Bread baking</li>" in html
    assert 'name="name"' not in html
    assert response.url.startswith(reverse("account_login"))
    assert Skill.objects.filter(name="Juggling").count() == 0


def test_a_non_member_cannot_add_a_skill(client):
    group = make_group()
    client.force_login(UserFactory())

    response = client.post(reverse("groups:skills", args=[group.slug]), {"name": "Juggling"})

    assert response.status_code == 403
    assert Skill.objects.filter(name="Juggling").count() == 0


def test_skills_of_another_group_are_not_listed(client):
    group = make_group()
    other = make_group()
    Skill.objects.create(name="Only elsewhere", group=other)

    html = client.get(reverse("groups:skills", args=[group.slug])).content.decode()

    assert "Only elsewhere" not in html
