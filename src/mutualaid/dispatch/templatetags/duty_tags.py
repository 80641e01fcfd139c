from typing import Any

from django import template
from django.utils import timezone

from mutualaid.dispatch.forms import DutyStartForm
from mutualaid.dispatch.permissions import can_go_on_duty

register = template.Library()


@register.simple_tag
def duty_state(user: Any) -> dict[str, Any]:
    """What the on-duty switch shows `user`: whether they may use it, until when they are on
    duty (None when they are not) and the form to start."""
    if not can_go_on_duty(user):
        return {"allowed": False}
    until = user.on_duty_until
    on_duty = until is not None and until > timezone.now()
    return {"allowed": True, "until": until if on_duty else None, "form": DutyStartForm()}
