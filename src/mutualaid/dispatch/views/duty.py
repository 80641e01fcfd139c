"""The on-duty switch: a member says they are free for the next few hours, or no longer."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualaid.common.errors import ApplicationError
from mutualaid.dispatch import services
from mutualaid.dispatch.forms import DutyStartForm
from mutualaid.dispatch.permissions import can_go_on_duty
from mutualaid.people.models import User


def _member(request: HttpRequest) -> User:
    user = request.user
    if not can_go_on_duty(user):
        raise PermissionDenied(_("Only members with an account can go on duty."))
    assert isinstance(user, User)
    return user


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the page the switch was on, when it is a path on this site; else the dashboard."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect("people:dashboard")


@login_required
@require_POST
def duty_start(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = DutyStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please choose for how long: 2, 4 or 8 hours."))
        return _back(request)
    try:
        until = services.member_duty_start(member=member, hours=form.cleaned_data["hours"])
    except ApplicationError as error:
        messages.error(request, error.message)
        return _back(request)
    messages.success(
        request,
        _("You are on duty until %(time)s. Thank you.")
        % {"time": time_format(timezone.localtime(until), "TIME_FORMAT")},
    )
    return _back(request)


@login_required
@require_POST
def duty_end(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    services.member_duty_end(member=member)
    messages.success(request, _("You are no longer on duty."))
    return _back(request)


urlpatterns: list[URLPattern] = [
    path("duty/start/", duty_start, name="duty_start"),
    path("duty/end/", duty_end, name="duty_end"),
]
