"""Asking for help without an account, following a request by its secret link, and the
dispatchers' phone desk. Parse, call one service, render."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mutualaid.common.errors import ApplicationError
from mutualaid.groups.models import Group
from mutualaid.needs import permissions, selectors, services
from mutualaid.needs.forms.intake import AskForm, MessageForm, PhoneDeskForm
from mutualaid.needs.models import Channel, Message, Request
from mutualaid.needs.throttle import anonymous_asking_limited
from mutualaid.people.models import User

View = Callable[..., HttpResponse]

# How many other occurrences of a standing need the status page lists.
OCCURRENCES_SHOWN = 12
# What the requester's cancel page can stop: this request, the repeats, or both.
CANCEL_CHOICES = {"request", "repeats", "both"}


def _unkept(response: HttpResponse) -> HttpResponse:
    """For pages whose address holds a secret or that show what a caller said: no copy is
    kept by the browser or a proxy, and the address is never sent on as a referrer.

    "strict-origin" rather than "no-referrer": under "no-referrer" browsers send the forms of
    the page with "Origin: null", which the CSRF check rightly refuses. Under "strict-origin"
    only the site's origin is ever sent, never the path that holds the secret."""
    add_never_cache_headers(response)
    response.headers["Referrer-Policy"] = "strict-origin"
    return response


def _private(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _unkept(view(request, *args, **kwargs))

    return wrapper


def _group_or_404(slug: str) -> Group:
    return get_object_or_404(Group, slug=slug)


def _areas(group: Group) -> list[Group]:
    """The wards and streets inside `group`, each ward followed by its streets."""
    areas = Group.objects.filter(Q(parent=group) | Q(parent__parent=group)).select_related("parent")

    def place(area: Group) -> tuple[str, int, str]:
        ward = area.parent
        if ward is None or ward.pk == group.pk:
            return (area.name.casefold(), 0, "")
        return (ward.name.casefold(), 1, area.name.casefold())

    return sorted(areas, key=place)


def _member(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    member = _member(request)
    # Only a submission counts against the limit; a visitor already over it learns so before
    # typing everything in.
    if member is None and anonymous_asking_limited(request, increment=request.method == "POST"):
        return render(request, "needs/ask_limited.html", {"group": group}, status=429)
    form = AskForm(
        request.POST if request.method == "POST" else None,
        group=group,
        categories=selectors.category_choices(group=group),
        areas=_areas(group),
        initial={"name": member.display_name} if member else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = services.request_create(
                group=group, channel=Channel.WEB, created_by=member, **form.request_fields()
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            if created.email:
                kept = _(
                    "Your request is in. Its reference is {reference}. Keep the address of "
                    "this page: bookmark it or copy it from below. We are also emailing it to "
                    "the address you gave."
                )
            else:
                kept = _(
                    "Your request is in. Its reference is {reference}. Keep the address of "
                    "this page: bookmark it or copy it from below. It is the only way to see "
                    "how your request is going, and we cannot send it to you again."
                )
            messages.success(
                request, format_html(kept, reference=_reference_html(created.reference))
            )
            return _unkept(redirect("needs:status", reference=created.reference, secret=secret))
    return render(request, "needs/ask.html", {"group": group, "form": form})


def _reference_html(reference: str) -> str:
    return format_html('<strong class="reference">{}</strong>', reference)


def _find(reference: str, secret: str) -> Request | None:
    try:
        return services.request_find_by_secret(reference=reference, secret=secret)
    except (ApplicationError, PermissionDenied):
        return None


def _refusal(error: ApplicationError | PermissionDenied) -> str:
    return error.message if isinstance(error, ApplicationError) else str(error)


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "needs/status_not_found.html", status=404)


def _author(message: Message) -> str:
    if message.author_kind == Message.Author.REQUESTER:
        return _("You")
    if message.author_kind == Message.Author.DISPATCHER:
        return _("A dispatcher")
    return message.author.public_name if message.author else _("A volunteer")


def _render_status(
    request: HttpRequest,
    found: Request,
    secret: str,
    *,
    message_form: MessageForm | None = None,
) -> HttpResponse:
    group = found.group
    standing = found.standing_need
    occurrences: list[Request] = []
    if standing is not None:
        occurrences = list(
            Request.objects.filter(standing_need=standing)
            .exclude(pk=found.pk)
            .only("pk", "reference", "status", "needed_by", "created_at", "standing_need_id")
            .order_by("needed_by", "created_at")[:OCCURRENCES_SHOWN]
        )
    thread = [
        (message, _author(message))
        for message in found.messages.select_related("author").order_by("created_at", "pk")
    ]
    status_url = request.build_absolute_uri(
        reverse("needs:status", kwargs={"reference": found.reference, "secret": secret})
    )
    context = {
        "group": group,
        "found": found,
        "secret": secret,
        "status_url": status_url,
        "category": selectors.category_label(group=group, code=found.category),
        "helper": found.claimed_by.public_name if found.claimed_by else "",
        "thread": thread,
        "message_form": message_form or MessageForm(),
        "can_write": found.status != Request.Status.CANCELLED,
        "can_cancel": not found.is_closed,
        "standing": standing,
        "occurrences": occurrences,
        "repeats_running": standing is not None and standing.ended_at is None,
    }
    return render(request, "needs/status.html", context)


@_private
@require_GET
def status(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    found = _find(reference, secret)
    if found is None:
        return _not_found(request)
    return _render_status(request, found, secret)


@_private
@require_http_methods(["GET", "POST"])
def status_cancel(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    """GET asks to confirm; POST cancels this request, stops the repeats, or both."""
    found = _find(reference, secret)
    if found is None:
        return _not_found(request)
    back = redirect("needs:status", reference=found.reference, secret=secret)
    standing = found.standing_need
    repeats_running = standing is not None and standing.ended_at is None
    if request.method == "GET":
        if found.is_closed and not repeats_running:
            return back
        return render(
            request,
            "needs/status_cancel.html",
            {
                "found": found,
                "secret": secret,
                "group": found.group,
                "can_cancel": not found.is_closed,
                "repeats_running": repeats_running,
            },
        )
    what = request.POST.get("what", "request")
    if what not in CANCEL_CHOICES or (what != "request" and standing is None):
        return back
    try:
        if what in {"repeats", "both"}:
            assert standing is not None
            services.standing_need_end(standing_need=standing, secret=secret)
        if what in {"request", "both"}:
            services.request_cancel(request=found, secret=secret)
    except (ApplicationError, PermissionDenied) as error:
        messages.error(request, _refusal(error))
        return back
    if what == "repeats":
        messages.success(request, _("The repeats are stopped. Nothing new will be made."))
    elif what == "both":
        messages.success(request, _("Your request is cancelled and the repeats are stopped."))
    else:
        messages.success(request, _("Your request is cancelled. Thank you for telling us."))
    return back


@_private
@require_POST
def status_message(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    found = _find(reference, secret)
    if found is None:
        return _not_found(request)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.message_post(request=found, body=form.cleaned_data["body"], secret=secret)
        except (ApplicationError, PermissionDenied) as error:
            form.add_error("body", _refusal(error))
        else:
            messages.success(request, _("Your message is sent."))
            url = reverse("needs:status", kwargs={"reference": found.reference, "secret": secret})
            return redirect(f"{url}#messages")
    return _render_status(request, found, secret, message_form=form)


@_private
@login_required
@require_http_methods(["GET", "POST"])
def phone_desk(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    if not permissions.can_take_phone_requests(request.user, group):
        raise PermissionDenied(_("Only the group's dispatchers can take requests by phone."))
    dispatcher = _member(request)
    form = PhoneDeskForm(
        request.POST if request.method == "POST" else None,
        group=group,
        categories=selectors.category_choices(group=group),
        areas=_areas(group),
    )
    if request.method == "POST" and form.is_valid():
        try:
            created, _secret = services.request_create(
                group=group, channel=Channel.PHONE, created_by=dispatcher, **form.request_fields()
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            if created.email:
                taken = _(
                    "Taken. Read the caller their reference: {reference}. They quote it when "
                    "they call back. We email them a private link to follow their request, "
                    "and tell them by email when someone takes it and when it is done. {link}"
                )
            else:
                taken = _(
                    "Taken. Read the caller their reference: {reference}. They quote it when "
                    "they call back: with no email address, they have no link to follow it. "
                    "{link}"
                )
            messages.success(
                request,
                format_html(
                    taken,
                    reference=_reference_html(created.reference),
                    link=format_html(
                        '<a href="{}">{}</a>',
                        reverse("needs:request_detail", kwargs={"pk": created.pk}),
                        _("Open the request"),
                    ),
                ),
            )
            return redirect("needs:phone_desk", slug=group.slug)
    return render(request, "needs/phone_desk.html", {"group": group, "form": form})
