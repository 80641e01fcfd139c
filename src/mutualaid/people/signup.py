"""allauth's signup form, told that the password is optional.

It lives apart from forms.py because allauth builds its SignupForm on top of
forms.SignupDetailsForm (ACCOUNT_SIGNUP_FORM_CLASS): importing allauth's form there would loop.
"""

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django.utils.translation import gettext_lazy as _


class SignupForm(AllauthSignupForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "password1" in self.fields and not self.fields["password1"].required:
            self.fields["password1"].label = _("Password (optional)")
