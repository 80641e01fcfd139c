"""A member's own pages: dashboard, profile, API tokens, data download and account deletion."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from mutualaid.common import crypto
from mutualaid.common.audit import record_personal_data_access
from mutualaid.common.errors import ApplicationError
from mutualaid.groups.selectors import member_groups
from mutualaid.people import permissions, selectors, services
from mutualaid.people.forms import ApiTokenForm, DeleteAccountForm, ProfileForm
from mutualaid.people.models import DAY_PARTS, ApiToken, User


def _member(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    return render(
        request,
        "people/dashboard.html",
        {
            "groups": member_groups(member=member),
            "roles": selectors.member_roles_in_force(member=member),
            "join_requests": selectors.member_pending_join_requests(member=member),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if request.method == "POST":
        form = ProfileForm(request.POST, member=member)
        if form.is_valid():
            try:
                services.member_profile_update(member=member, **form.service_arguments())
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Your profile is saved."))
                return redirect("people:profile")
    else:
        form = ProfileForm(initial=ProfileForm.initial_for(member), member=member)
    # The page shows the stored email, and the phone and address in the form: the stored ones,
    # or after a refused save the ones just typed.
    shown = [gettext_noop("email")] + [
        field for field in ("phone", "address") if str(form[field].value() or "").strip()
    ]
    record_personal_data_access(
        actor=member,
        subject=member,
        fields=shown,
        reason=gettext_noop("own profile"),
        request=request,
    )
    return render(
        request,
        "people/profile.html",
        {
            "form": form,
            "member": member,
            "availability_rows": form.availability_rows(),
            "day_parts": DAY_PARTS,
        },
    )


NEW_TOKEN_SESSION_KEY = "people:new_api_token"  # noqa: S105 (a session key name)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    context: dict[str, Any] = {}
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            token, raw = services.api_token_create(user=member, name=form.cleaned_data["name"])
            # Shown on the next page once, so reloading it cannot make a second token. Sessions
            # are rows in the database, so until then the token waits there encrypted.
            request.session[NEW_TOKEN_SESSION_KEY] = [token.pk, crypto.encrypt(raw)]
            return redirect("people:tokens")
    else:
        form = ApiTokenForm()
        new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
        if new_token:
            token_pk, sealed = new_token
            context.update(
                new_token=ApiToken.objects.get(pk=token_pk, user=member),
                raw_token=crypto.decrypt(sealed),
            )
    context.update(form=form, tokens=selectors.member_api_tokens(member=member))
    return render(request, "people/tokens.html", context)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request)
    token = get_object_or_404(ApiToken, pk=pk)
    if not permissions.can_manage_token(member, token):
        raise Http404
    services.api_token_revoke(user=member, token=token)
    messages.success(
        request, _("The token “%(name)s” is revoked and no longer works.") % {"name": token.name}
    )
    return redirect("people:tokens")


DATA_ACCESS_PER_PAGE = 50


@never_cache
@login_required
def data_access_log(request: HttpRequest) -> HttpResponse:
    """Who saw or handled the member's personal data, when, where and why."""
    member = _member(request)
    page = Paginator(selectors.member_data_access_log(member=member), DATA_ACCESS_PER_PAGE)
    return render(
        request,
        "people/data_access_log.html",
        {"member": member, "page": page.get_page(request.GET.get("page"))},
    )


@never_cache
@login_required
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    data = services.member_data_export(member=member, request=request)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    filename = f"mutualaid-my-data-{timezone.localdate().isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if request.method == "POST":
        form = DeleteAccountForm(request.POST, member=member)
        if form.is_valid():
            services.member_erase(member=member, request=request)
            logout(request)
            messages.success(
                request,
                _("Your account is deleted and your personal data erased. Take care."),
            )
            return redirect("directory:home")
    else:
        form = DeleteAccountForm(member=member)
    return render(request, "people/delete.html", {"form": form})
