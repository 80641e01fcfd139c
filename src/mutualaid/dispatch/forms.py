from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from mutualaid.dispatch.services import DUTY_HOURS


class DutyStartForm(forms.Form):
    hours = forms.TypedChoiceField(
        label=_("For how long"),
        coerce=int,
        choices=[
            (hours, ngettext_lazy("%(count)d hour", "%(count)d hours", "count") % {"count": hours})
            for hours in DUTY_HOURS
        ],
        initial=DUTY_HOURS[0],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("auto_id", "duty_%s")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
