from django import forms


class SignupDetailsForm(forms.Form):
    def signup(self, request, user):  # type: ignore[no-untyped-def]
        pass
