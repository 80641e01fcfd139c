"""Requests for help and offers in the JSON API.

Anyone may ask a group for help, with or without a token. Members see a group's open requests
with a rough location only; the member holding a request and the group's dispatchers also see
how to reach the person who asked, and every such sighting is audited. The person who asked
follows their request with the secret from their status link.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from mutualaid.api.auth import TOKEN_OPTIONAL
from mutualaid.api.errors import ErrorOut, ValidationErrorOut
from mutualaid.api.pagination import LimitOffset
from mutualaid.api.text import NO_NUL_CHARACTER
from mutualaid.common.errors import ApplicationError
from mutualaid.groups.models import Group
from mutualaid.needs import permissions, selectors, services
from mutualaid.needs.models import (
    Channel,
    ContactMethod,
    Message,
    Offer,
    Recurrence,
    Request,
    Urgency,
)
from mutualaid.needs.throttle import anonymous_asking_limited

router = Router(tags=["requests"])

# A category code: a built-in one or a group's own, a slug that may hold letters of any
# script. Empty means any, where allowed.
CATEGORY_CODE = r"^[-\w]+$"
ANY_CATEGORY_CODE = r"^[-\w]*$"
GROUP_SLUG_OR_EMPTY = r"^[-a-zA-Z0-9_]*$"
ANY_URGENCY = f"^({'|'.join(Urgency.values)})?$"
LANGUAGE_CODE = r"^[a-zA-Z]{0,3}(-[a-zA-Z0-9]{1,4})?$"


# Requests: what comes in


class RequestIn(Schema):
    category: str = Field(
        max_length=40,
        pattern=CATEGORY_CODE,
        description="A built-in category code (e.g. shopping, prescription) or the group's own.",
    )
    description: str = Field(
        min_length=1,
        max_length=services.DESCRIPTION_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="What is needed.",
    )
    name: str = Field(
        "",
        max_length=services.NAME_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="A name to ask for; any name will do. Needed.",
    )
    phone: str = Field("", max_length=40, pattern=NO_NUL_CHARACTER)
    email: str = Field("", max_length=254, pattern=NO_NUL_CHARACTER)
    address: str = Field(
        "",
        max_length=services.ADDRESS_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="Seen only by whoever helps and the dispatchers.",
    )
    contact_method: ContactMethod = Field(
        ContactMethod.PHONE, description="How the person wants to be reached."
    )
    contact_via: str = Field(
        "",
        max_length=services.CONTACT_VIA_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description='With contact_method "contact": the name and number of the person to ask.',
    )
    area_name: str = Field(
        "",
        max_length=services.AREA_NAME_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="The neighbourhood, as members browsing will see it.",
    )
    area: str = Field(
        "",
        max_length=60,
        pattern=GROUP_SLUG_OR_EMPTY,
        description="The slug of a ward or street group inside this group.",
    )
    latitude: float | None = Field(
        None, ge=-90, le=90, allow_inf_nan=False, description="Stored rounded to about 1 km."
    )
    longitude: float | None = Field(
        None, ge=-180, le=180, allow_inf_nan=False, description="Stored rounded to about 1 km."
    )
    urgency: Urgency = Urgency.THIS_WEEK
    needed_by: date | None = None
    language: str = Field(
        "", max_length=8, pattern=LANGUAGE_CODE, description="Preferred language, e.g. en."
    )
    accessibility_notes: str = Field(
        "", max_length=services.ACCESSIBILITY_MAX_LENGTH, pattern=NO_NUL_CHARACTER
    )
    recurrence: Recurrence | None = Field(
        None, description="For a need that comes back, e.g. weekly groceries."
    )
    recurrence_until: date | None = None
    channel: Literal["api", "phone", "sms"] = Field(
        "api",
        description=(
            'How the request reached the group. "phone" and "sms" are for the group\'s '
            'dispatchers entering a call or a text for someone; anyone else sends "api".'
        ),
    )


class RequestCreatedOut(Schema):
    id: int
    reference: str = Field(description="The short code the person quotes when they call.")
    status: str
    secret: str = Field(
        description=(
            "The secret of the person's status link, given this once (the site emails it only "
            "to the person's own address, if they gave one): pass it, with status_url, to the "
            "person who asked. With it they can see the status, talk with whoever helps, and "
            "cancel."
        )
    )
    status_url: str = Field(description="The person's status page; it holds the secret.")


# Requests: what members see


class _CategoryLabelled(Schema):
    """In lists, the labels come from one lookup per answer, kept on the HTTP request by the
    operation."""

    category: str
    category_label: str

    @staticmethod
    def resolve_category_label(obj: Any, context: dict[str, Any]) -> str:
        labels: dict[str, str] = getattr(context["request"], "category_labels", {})
        return labels.get(obj.category, obj.category)


DISTANCE_DESCRIPTION = (
    "From your home area to the request's rough point, rounded to 0.5 km; null when either "
    "is unknown."
)


class RequestSummary(_CategoryLabelled):
    id: int
    reference: str
    description: str = Field(description="What is needed, in the person's words.")
    urgency: str
    needed_by: date | None
    area_name: str
    distance_km: float | None = Field(description=DISTANCE_DESCRIPTION)
    created_at: datetime
    status: str
    paced: bool = Field(
        description="The same household asked for this kind of help recently: listed after "
        "first requests."
    )

    @staticmethod
    def resolve_distance_km(obj: Request, context: dict[str, Any]) -> float | None:
        if hasattr(obj, "distance_km"):
            return obj.distance_km
        return selectors.rounded_distance_km(context["request"].auth, obj)


class ContactOut(Schema):
    name: str
    phone: str
    email: str
    address: str
    contact_method: str
    contact_via: str
    accessibility_notes: str


class RequestDetail(Schema):
    id: int
    reference: str
    group: str = Field(description="The slug of the group asked.")
    category: str
    category_label: str
    description: str
    urgency: str
    needed_by: date | None
    language: str
    area_name: str
    distance_km: float | None = Field(description=DISTANCE_DESCRIPTION)
    channel: str
    created_at: datetime
    status: str
    paced: bool
    claimed: bool = Field(description="Whether a member holds it now.")
    held_by_you: bool
    recurrence: str | None = Field(description="How often it comes back, for a standing need.")
    contact: ContactOut | None = Field(
        description=(
            "How to reach the person: only for the member holding the request and the group's "
            "dispatchers, and each time it is shown, it is recorded in the audit log. Null for "
            "everyone else."
        )
    )


class ReleaseIn(Schema):
    reason: str = Field(
        max_length=services.REASON_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="Why you let it go.",
    )


class CompleteIn(Schema):
    notes: str = Field("", max_length=services.NOTES_MAX_LENGTH, pattern=NO_NUL_CHARACTER)
    spent_minor: int | None = Field(
        None,
        ge=1,
        le=services.SPENT_MAX_MINOR,
        description="What you spent, in minor units of the group's currency, to be paid back.",
    )
    spent_note: str = Field(
        "",
        max_length=services.REASON_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="What the money was for.",
    )


# Offers


class OfferIn(Schema):
    kind: Offer.Kind
    category: str = Field(max_length=40, pattern=CATEGORY_CODE)
    title: str = Field(
        min_length=1, max_length=services.OFFER_TITLE_MAX_LENGTH, pattern=NO_NUL_CHARACTER
    )
    description: str = Field(
        "", max_length=services.OFFER_DESCRIPTION_MAX_LENGTH, pattern=NO_NUL_CHARACTER
    )
    area_name: str = Field("", max_length=services.AREA_NAME_MAX_LENGTH, pattern=NO_NUL_CHARACTER)
    availability: str = Field(
        "",
        max_length=services.OFFER_AVAILABILITY_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="For example: weekday evenings.",
    )
    quantity: int | None = Field(
        None,
        ge=1,
        le=services.OFFER_MAX_QUANTITY,
        description="For goods: how many you can give; only goods have one.",
    )
    available_until: date | None = None


class OfferOut(_CategoryLabelled):
    id: int
    kind: str
    title: str
    description: str
    area_name: str
    availability: str
    quantity: int | None
    available_until: date | None
    status: str
    created_at: datetime
    offered_by: str = Field(description="The display name of the member offering.")

    @staticmethod
    def resolve_offered_by(offer: Offer) -> str:
        return offer.member.public_name


# The person who asked


class ThreadMessageOut(Schema):
    author_kind: str = Field(description='"requester", "member" or "dispatcher".')
    author_name: str | None = Field(
        description="The display name of the member who wrote; null for the person who asked."
    )
    body: str
    created_at: datetime

    @staticmethod
    def resolve_author_name(message: Message) -> str | None:
        return message.author.public_name if message.author else None


class RequesterViewOut(Schema):
    reference: str
    status: str
    category: str
    category_label: str
    urgency: str
    created_at: datetime
    needed_by: date | None
    claimed: bool = Field(description="Whether a volunteer holds it now.")
    messages: list[ThreadMessageOut]


class MessageIn(Schema):
    body: str = Field(
        min_length=1, max_length=services.MESSAGE_MAX_LENGTH, pattern=NO_NUL_CHARACTER
    )


# Shared steps


def _caller(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _remember_category_labels(request: HttpRequest, group: Group) -> None:
    request.category_labels = dict(  # type: ignore[attr-defined]
        selectors.category_choices(group=group)
    )


def _help_request(request_id: int) -> Request:
    return get_object_or_404(
        Request.objects.select_related("group", "standing_need"), pk=request_id
    )


def _visible_request(request: HttpRequest, request_id: int) -> Request:
    help_request = _help_request(request_id)
    if not permissions.can_view_request(_caller(request), help_request):
        raise PermissionDenied(_("Only members of this group can see its requests."))
    return help_request


def _detail(request: HttpRequest, help_request: Request) -> dict[str, Any]:
    """A request as a member sees it; the contact part only through the audited service."""
    viewer = _caller(request)
    contact = None
    if permissions.can_view_contact(viewer, help_request):
        details = services.request_contact_details(
            request=help_request, viewer=viewer, http_request=request
        )
        contact = {field: details.get(field, "") for field in ContactOut.model_fields}
    return {
        "id": help_request.pk,
        "reference": help_request.reference,
        "group": help_request.group.slug,
        "category": help_request.category,
        "category_label": selectors.category_label(
            group=help_request.group, code=help_request.category
        ),
        "description": help_request.description,
        "urgency": help_request.urgency,
        "needed_by": help_request.needed_by,
        "language": help_request.language,
        "area_name": help_request.area_name,
        "distance_km": selectors.rounded_distance_km(viewer, help_request),
        "channel": help_request.channel,
        "created_at": help_request.created_at,
        "status": help_request.status,
        "paced": help_request.paced,
        "claimed": help_request.status == Request.Status.CLAIMED,
        "held_by_you": permissions.holds_request(viewer, help_request),
        "recurrence": (
            help_request.standing_need.recurrence if help_request.standing_need else None
        ),
        "contact": contact,
    }


def _area(slug: str) -> Group | None:
    """The ward or street group named by `slug`; the service checks it is inside the group."""
    if not slug:
        return None
    area = Group.objects.filter(slug=slug).first()
    if area is None:
        raise ApplicationError(_("Please choose an area inside this group."))
    return area


def _requester_view(help_request: Request) -> dict[str, Any]:
    return {
        "reference": help_request.reference,
        "status": help_request.status,
        "category": help_request.category,
        "category_label": selectors.category_label(
            group=help_request.group, code=help_request.category
        ),
        "urgency": help_request.urgency,
        "created_at": help_request.created_at,
        "needed_by": help_request.needed_by,
        "claimed": help_request.status == Request.Status.CLAIMED,
        "messages": list(help_request.messages.select_related("author")),
    }


# Requests: operations on a group


@router.post(
    "/groups/{slug:slug}/requests",
    response={
        201: RequestCreatedOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
        429: ErrorOut,
    },
    summary="Ask a group for help",
    **TOKEN_OPTIONAL,
)
def create_request(request: HttpRequest, slug: str, payload: RequestIn) -> Status[dict]:
    """Ask for help, with or without a token. No eligibility or means question is asked.

    Without a token, a few requests an hour are taken from one address (429 after that).
    A group's dispatchers may record a call or a text they took with `channel`."""
    group = get_object_or_404(Group, slug=slug)
    caller = _caller(request)
    member = caller if caller.is_authenticated else None
    # Only callers without a token are counted: a token belongs to a member who answers for
    # its use and can lose it, and a dispatcher entering a morning of calls must not be stopped.
    if member is None and anonymous_asking_limited(request):
        raise ApplicationError(
            _(
                "Too many requests for help have come from this address. Please try again "
                "later, or call the group."
            ),
            code="rate_limited",
            status=429,
        )
    if payload.channel != Channel.API and not permissions.can_take_phone_requests(caller, group):
        raise PermissionDenied(
            _("Only the group's dispatchers can enter a request that came by phone or text.")
        )
    help_request, secret = services.request_create(
        group=group,
        category=payload.category,
        description=payload.description,
        name=payload.name,
        phone=payload.phone,
        email=payload.email,
        address=payload.address,
        contact_method=payload.contact_method,
        contact_via=payload.contact_via,
        area_name=payload.area_name,
        area_group=_area(payload.area),
        latitude=payload.latitude,
        longitude=payload.longitude,
        urgency=payload.urgency,
        needed_by=payload.needed_by,
        language=payload.language,
        accessibility_notes=payload.accessibility_notes,
        channel=payload.channel,
        created_by=member,
        recurrence=payload.recurrence or "",
        recurrence_until=payload.recurrence_until,
    )
    status_path = reverse(
        "needs:status", kwargs={"reference": help_request.reference, "secret": secret}
    )
    return Status(
        201,
        {
            "id": help_request.pk,
            "reference": help_request.reference,
            "status": help_request.status,
            "secret": secret,
            "status_url": f"{settings.SITE_URL}{status_path}",
        },
    )


@router.get(
    "/groups/{slug:slug}/requests",
    response={
        200: list[RequestSummary],
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="List a group's requests",
)
@paginate(LimitOffset)
def list_requests(
    request: HttpRequest,
    slug: str,
    status: Annotated[
        Request.Status,
        Query(
            ...,
            description="Members list open requests; the group's dispatchers, any status.",
        ),
    ] = Request.Status.OPEN,
    category: Annotated[str, Query(..., max_length=40, pattern=ANY_CATEGORY_CODE)] = "",
    urgency: Annotated[
        str, Query(..., pattern=ANY_URGENCY, description="today, this_week or flexible.")
    ] = "",
) -> Sequence[Request] | QuerySet[Request]:
    """A group's requests without anyone's name, number or address: the area name and a
    distance rounded to 0.5 km. Open requests come first-time before paced, then nearest to
    your home area, then most urgent, then oldest. Members only."""
    group = get_object_or_404(Group, slug=slug)
    member = _caller(request)
    if not permissions.can_view_requests(member, group):
        raise PermissionDenied(_("Only members of this group can see its requests."))
    _remember_category_labels(request, group)
    if status == Request.Status.OPEN:
        return selectors.requests_open_for_member(
            member=member, group=group, category=category, urgency=urgency
        )
    # Who held, finished or gave up which request is for the people who follow up on them.
    if not permissions.can_dispatch(member, group):
        raise PermissionDenied(
            _("Only the group's dispatchers can list requests that are not open.")
        )
    requests = Request.objects.filter(group=group, status=status).only(*selectors.LISTED_FIELDS)
    if category:
        requests = requests.filter(category=category)
    if urgency:
        requests = requests.filter(urgency=urgency)
    return requests.order_by("-created_at", "-pk")


# Requests: one request


# What claiming, letting go and completing answer: the request as the caller now sees it, or
# why not (409 when someone else holds it or it is no longer open).
REQUEST_ACTION_RESPONSES: dict[int, Any] = {
    200: RequestDetail,
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ValidationErrorOut,
}


@router.get(
    "/requests/{int:id}",
    response={200: RequestDetail, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Show a request",
)
def get_request(request: HttpRequest, id: int) -> dict[str, Any]:
    """One request of a group you belong to. `contact` is filled in only for the member
    holding it and the group's dispatchers, and each time is recorded in the audit log."""
    return _detail(request, _visible_request(request, id))


@router.post(
    "/requests/{int:id}/claim",
    response={
        200: RequestDetail,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
    summary="Claim a request",
)
def claim_request(request: HttpRequest, id: int) -> dict[str, Any]:
    """Take a request on: 200 with the request and how to reach the person, or 409 when
    someone else holds it. Of members claiming at once, exactly one gets it."""
    help_request = _help_request(id)
    services.request_claim(request=help_request, member=_caller(request))
    help_request.refresh_from_db()
    return _detail(request, help_request)


@router.post(
    "/requests/{int:id}/release",
    response=REQUEST_ACTION_RESPONSES,
    summary="Release a request",
)
def release_request(request: HttpRequest, id: int, payload: ReleaseIn) -> dict[str, Any]:
    """Let go of a request you hold, saying why; it is open again for others."""
    help_request = _help_request(id)
    services.request_release(request=help_request, member=_caller(request), reason=payload.reason)
    help_request.refresh_from_db()
    return _detail(request, help_request)


@router.post(
    "/requests/{int:id}/complete",
    response=REQUEST_ACTION_RESPONSES,
    summary="Mark a request done",
)
def complete_request(
    request: HttpRequest, id: int, payload: CompleteIn | None = None
) -> dict[str, Any]:
    """Mark a request you hold as done. What you spent, if anything, becomes a claim for the
    group's funds to pay back. The body is optional."""
    help_request = _help_request(id)
    services.request_complete(
        request=help_request,
        member=_caller(request),
        notes=payload.notes if payload else "",
        spent_minor=payload.spent_minor if payload else None,
        spent_note=payload.spent_note if payload else "",
    )
    help_request.refresh_from_db()
    return _detail(request, help_request)


# The person who asked, with the secret from their link


@router.get(
    "/requests/status/{reference}",
    response={200: RequesterViewOut, 401: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="Follow your own request",
    **TOKEN_OPTIONAL,
)
def get_own_request(
    request: HttpRequest,
    reference: str,
    secret: str = Query(description="The secret from your status link."),
) -> dict[str, Any]:
    """What the person who asked sees: the status, whether someone has taken it, and the
    messages with whoever helps (their display name only). No token needed."""
    return _requester_view(services.request_find_by_secret(reference=reference, secret=secret))


@router.post(
    "/requests/status/{reference}/messages",
    response={
        201: ThreadMessageOut,
        400: ErrorOut,
        401: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Write to whoever helps",
    **TOKEN_OPTIONAL,
)
def post_own_message(
    request: HttpRequest,
    reference: str,
    payload: MessageIn,
    secret: str = Query(description="The secret from your status link."),
) -> Status[Message]:
    """A message from the person who asked to whoever holds the request and the dispatchers,
    so nobody needs to share a number. No token needed."""
    help_request = services.request_find_by_secret(reference=reference, secret=secret)
    message = services.message_post(request=help_request, body=payload.body, secret=secret)
    return Status(201, message)


@router.post(
    "/requests/status/{reference}/cancel",
    response={
        200: RequesterViewOut,
        400: ErrorOut,
        401: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Cancel your own request",
    **TOKEN_OPTIONAL,
)
def cancel_own_request(
    request: HttpRequest,
    reference: str,
    secret: str = Query(description="The secret from your status link."),
) -> dict[str, Any]:
    """Say the help is no longer needed. No token needed."""
    help_request = services.request_find_by_secret(reference=reference, secret=secret)
    services.request_cancel(request=help_request, secret=secret)
    help_request.refresh_from_db()
    return _requester_view(help_request)


# Offers


@router.get(
    "/groups/{slug:slug}/offers",
    response={
        200: list[OfferOut],
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="List current offers",
    tags=["offers"],
)
@paginate(LimitOffset)
def list_offers(request: HttpRequest, slug: str) -> QuerySet[Offer]:
    """What members of the group offer now: time, skills and goods. Members only."""
    group = get_object_or_404(Group, slug=slug)
    if not permissions.can_view_offers(_caller(request), group):
        raise PermissionDenied(_("Only members of this group can see its offers."))
    _remember_category_labels(request, group)
    return selectors.offers_current(group=group)


@router.post(
    "/groups/{slug:slug}/offers",
    response={
        201: OfferOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Offer help",
    tags=["offers"],
)
def create_offer(request: HttpRequest, slug: str, payload: OfferIn) -> Status[Offer]:
    """Offer your time, a skill or goods to the group. Members only."""
    group = get_object_or_404(Group, slug=slug)
    offer = services.offer_create(
        group=group,
        member=_caller(request),
        kind=payload.kind,
        category=payload.category,
        title=payload.title,
        description=payload.description,
        area_name=payload.area_name,
        availability=payload.availability,
        quantity=payload.quantity,
        available_until=payload.available_until,
    )
    _remember_category_labels(request, group)
    return Status(201, offer)
