from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# allauth keeps login addresses in a 254-character column, and the encrypted form of an address
# is longer than the address: 160 characters is what still fits once encrypted.
EMAIL_MAX_LENGTH = 160


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        if len(email) > EMAIL_MAX_LENGTH:
            raise forms.ValidationError(
                _("Please use an email address of at most %(max)d characters."),
                code="email_too_long",
                params={"max": EMAIL_MAX_LENGTH},
            )
        return email

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return reverse("people:dashboard")
