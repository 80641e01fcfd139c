"""Signing up and logging in through allauth's real views, as a browser would."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from mutualaid.common.errors import ApplicationError
from mutualaid.people.models import User
from mutualaid.people.services import member_create
from mutualaid.people.tests.factories import UserFactory

CODE_LINE = re.compile(r"^\s*([A-Z0-9]{3,8}(?:-[A-Z0-9]{3,8})*)\s*$", re.MULTILINE)


def _code_from_last_mail(to: str) -> str:
    message = mail.outbox[-1]
    assert message.to == [to]
    match = CODE_LINE.search(message.body)
    assert match, message.body
    return match.group(1)


def _signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "email": "rosa@example.org",
        "display_name": "Rosa P",
        "password1": "",
        "privacy_consent": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.django_db
def test_signup_page_asks_for_display_name_and_links_the_privacy_notice(client: Client) -> None:
    # when
    response = client.get(reverse("account_signup"))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="display_name"' in html
    assert 'name="privacy_consent"' in html
    assert f'href="{reverse("directory:privacy")}"' in html
    assert response.context["form"].fields["password1"].label == "Password (optional)"
    assert response.context["form"].fields["password1"].required is False
    assert '<link rel="stylesheet" href="/static/mutualaid/site.css">' in html


@pytest.mark.django_db
def test_signup_without_password_verifies_the_email_by_code_and_logs_in(client: Client) -> None:
    # given: the member fills in the signup form with no password
    response = client.post(reverse("account_signup"), _signup_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="rosa@example.org")
    assert not user.has_usable_password()
    code = _code_from_last_mail("rosa@example.org")

    # when: they type the code from the email
    response = client.post(reverse("account_email_verification_sent"), {"code": code})

    # then: they are logged in, verified, named and their consent is on record
    assert response.status_code == 302
    assert response["Location"] == reverse("people:dashboard")
    assert client.get(reverse("people:dashboard")).status_code == 200
    user.refresh_from_db()
    assert user.display_name == "Rosa P"
    assert user.consent_version == settings.PRIVACY_NOTICE_VERSION
    assert user.consent_at is not None
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == ("rosa@example.org", True, True)
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.django_db
def test_signup_with_a_password_keeps_it(client: Client) -> None:
    # when
    client.post(reverse("account_signup"), _signup_data(password1="a long and odd passphrase"))

    # then
    user = User.objects.get(email="rosa@example.org")
    assert user.check_password("a long and odd passphrase")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        (
            {"email": "a" * 150 + "@example.org"},
            "email",
            "Please use an email address of at most 160 characters.",
        ),
        ({"privacy_consent": None}, "privacy_consent", "Please agree to the privacy notice"),
        ({"display_name": ""}, "display_name", "This field is required."),
        ({"display_name": "   "}, "display_name", "This field is required."),
        (
            {"display_name": "x" * 61},
            "display_name",
            "Ensure this value has at most 60 characters (it has 61).",
        ),
        (
            {"display_name": "<script>alert(1)</script>"},
            "display_name",
            "the characters &lt; and &gt; are not allowed.",
        ),
    ],
)
@pytest.mark.django_db
def test_bad_signup_input_gives_a_form_error_and_creates_no_member(
    client: Client, overrides: dict[str, str | None], field: str, message: str
) -> None:
    # when
    response = client.post(reverse("account_signup"), _signup_data(**overrides))  # type: ignore[arg-type]

    # then
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in response.content.decode()
    assert User.objects.count() == 0
    assert EmailAddress.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_login_by_code_needs_no_password(client: Client) -> None:
    # given
    member = UserFactory(email="sam@example.org", password=None)
    response = client.post(reverse("account_request_login_code"), {"email": "sam@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_confirm_login_code")
    code = _code_from_last_mail("sam@example.org")

    # when
    response = client.post(reverse("account_confirm_login_code"), {"code": code})

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("people:dashboard")
    assert int(client.session["_auth_user_id"]) == member.pk


@pytest.mark.django_db
def test_login_by_code_with_a_wrong_code_does_not_log_in(client: Client) -> None:
    # given
    UserFactory(email="sam@example.org")
    client.post(reverse("account_request_login_code"), {"email": "sam@example.org"})

    # when
    response = client.post(reverse("account_confirm_login_code"), {"code": "WRONG1"})

    # then
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_by_password(client: Client) -> None:
    # given
    member = UserFactory(email="sam@example.org")

    # when
    response = client.post(
        reverse("account_login"),
        {"login": "SAM@example.org", "password": "correct horse battery staple"},
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("people:dashboard")
    assert int(client.session["_auth_user_id"]) == member.pk


@pytest.mark.django_db
def test_login_with_a_wrong_password_fails(client: Client) -> None:
    # given
    UserFactory(email="sam@example.org")

    # when
    response = client.post(
        reverse("account_login"), {"login": "sam@example.org", "password": "wrong password"}
    )

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["__all__"]
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_and_two_factor_pages_use_the_site_layout(client: Client) -> None:
    # given
    member = UserFactory()

    # when
    login_page = client.get(reverse("account_login")).content.decode()
    client.force_login(member)
    mfa_page = client.get(reverse("mfa_index")).content.decode()

    # then
    for html in (login_page, mfa_page):
        assert '<a class="skip" href="#main">' in html
        assert "<title>" in html
    assert reverse("account_request_login_code") in login_page
    assert reverse("mfa_activate_totp") in mfa_page


@pytest.mark.django_db
def test_changing_to_an_overlong_email_is_a_form_error(client: Client) -> None:
    # given
    member = UserFactory(email="sam@example.org")
    client.force_login(member)
    overlong = "a" * 150 + "@example.org"

    # when
    response = client.post(reverse("account_email"), {"action_add": "", "email": overlong})

    # then
    assert response.status_code == 200
    assert "Please use an email address of at most 160 characters." in response.content.decode()
    assert list(EmailAddress.objects.filter(user=member).values_list("email", flat=True)) == [
        "sam@example.org"
    ]


@pytest.mark.django_db
def test_an_operator_made_member_logs_in_with_a_verified_address() -> None:
    # when
    member = member_create(email=" Kit@Example.org ", display_name="Kit", password=None)

    # then
    assert (member.email, member.display_name, member.has_usable_password()) == (
        "kit@example.org",
        "Kit",
        False,
    )
    address = EmailAddress.objects.get(user=member)
    assert (address.email, address.verified, address.primary) == ("kit@example.org", True, True)


@pytest.mark.django_db
def test_an_operator_cannot_make_two_members_with_one_address() -> None:
    member_create(email="kit@example.org", display_name="Kit")

    with pytest.raises(ApplicationError, match="already exists"):
        member_create(email="KIT@example.org", display_name="Kit again")

    assert User.objects.count() == 1
