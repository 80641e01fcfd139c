"""Requests and offers for the demo group, made through the same services as real use.

Dates are moved back afterwards, so the follow-up list and the weekly report have a history to
show. Names, numbers and addresses are invented: phone numbers from Ofcom's drama ranges,
addresses on streets that do not exist.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from mutualaid.groups.models import Group
from mutualaid.needs import services
from mutualaid.needs.models import Channel, ContactMethod, Offer, Recurrence, Request, Urgency
from mutualaid.people.models import User


@dataclass(frozen=True)
class DemoRequest:
    category: str
    description: str
    name: str
    phone: str
    address: str
    area: str  # a ward name, or "" for the whole area
    urgency: str = Urgency.THIS_WEEK
    needed_in_days: int | None = None
    language: str = ""
    channel: str = Channel.WEB
    email: str = ""
    recurrence: str = ""
    messages: tuple[str, ...] = field(default=())


OPEN = [
    DemoRequest(
        "shopping",
        "Weekly shop from the Aldi on Stockport Road: milk, bread, eggs, tinned tomatoes and "
        "size 4 nappies. I can pay on the doorstep.",
        "Margaret O.",
        "0161 496 0011",
        "14 Acacia Avenue, M19 2QX",
        "Levenshulme",
        urgency=Urgency.TODAY,
        channel=Channel.PHONE,
    ),
    DemoRequest(
        "prescription",
        "Repeat prescription ready at the pharmacy by the library. It is already paid for.",
        "Mr Begum",
        "0161 496 0012",
        "3 Larkspur Close, M12 4ZZ",
        "Longsight",
        urgency=Urgency.TODAY,
        language="bn",
    ),
    DemoRequest(
        "dog_walking",
        "After knee surgery I can't walk Biscuit, a calm old labrador, for two weeks. "
        "Mornings are best.",
        "Pat",
        "07700 900512",
        "Flat 2, 40 Hollybush Road, M14 6XX",
        "Rusholme",
        needed_in_days=4,
    ),
    DemoRequest(
        "talk",
        "I live alone and would like someone to ring for a chat now and then, in Urdu if possible.",
        "Auntie Z.",
        "0161 496 0014",
        "",
        "",
        urgency=Urgency.FLEXIBLE,
        language="ur",
    ),
    DemoRequest(
        "ride",
        "A lift to Manchester Royal Infirmary for a 10:30 appointment on Thursday, and back.",
        "Derek",
        "07700 900515",
        "22 Quince Street, M19 3YY",
        "Levenshulme",
        needed_in_days=3,
    ),
    DemoRequest(
        "household",
        "Help carrying a wardrobe upstairs. It needs two people.",
        "Joanna",
        "07700 900516",
        "9 Tamarind Walk, M13 0QQ",
        "Longsight",
        urgency=Urgency.FLEXIBLE,
        language="pl",
        email="joanna@mutualaid.example",
    ),
    DemoRequest(
        "money",
        "I am £40 short for the electric meter this week after my hours were cut.",
        "Sam",
        "07700 900517",
        "",
        "Rusholme",
        urgency=Urgency.TODAY,
    ),
    DemoRequest(
        "food",
        "A hot meal for two adults, one vegetarian, any evening this week.",
        "Ruth and Ade",
        "07700 900518",
        "5 Damson Court, M12 5WW",
        "Longsight",
        channel=Channel.API,
    ),
]

CLAIMED = [
    DemoRequest(
        "shopping",
        "Fruit, porridge oats, soup and a loaf from the Co-op. I will leave cash under the mat.",
        "Irene",
        "0161 496 0021",
        "7 Medlar Row, M19 1PP",
        "Levenshulme",
        urgency=Urgency.TODAY,
        email="irene@mutualaid.example",
        messages=(
            "Hello Irene, I can bring it at about four this afternoon. Is that all right?",
            "Yes, four is lovely. Please knock loudly, the bell is broken.",
        ),
    ),
    DemoRequest(
        "check_in",
        "A short call every Monday to see how I am doing since my husband died.",
        "Vera",
        "0161 496 0022",
        "",
        "Rusholme",
        urgency=Urgency.FLEXIBLE,
        recurrence=Recurrence.WEEKLY,
    ),
    DemoRequest(
        "repairs",
        "The kitchen tap drips all night. I have a new washer but can't undo the nut.",
        "Tomasz",
        "07700 900523",
        "31 Sorrel Street, M14 2RR",
        "Rusholme",
        language="pl",
    ),
]

DONE = [
    ("shopping", "Big shop for a family of five while the car is off the road.", "Levenshulme"),
    ("prescription", "Inhaler from the late-night chemist.", "Longsight"),
    ("dog_walking", "Walk Pepper twice while I am in hospital for the day.", "Rusholme"),
    ("food", "Meals for a week after the baby came.", "Longsight"),
    ("ride", "A lift to the job centre for an appointment.", "Levenshulme"),
    ("childcare", "Someone to sit with the kids for an hour during a GP appointment.", "Rusholme"),
    ("talk", "A chat over tea, I am new to the area.", "Longsight"),
    ("household", "Change a light bulb on the landing; I can't manage the ladder.", "Levenshulme"),
]

UNMET = [
    ("repairs", "The back gate has come off its hinges.", "Longsight"),
    ("housing", "Help finding out about the damp in my flat; the landlord won't answer.", ""),
]

OFFERS = [
    (Offer.Kind.TIME, "shopping", "Cargo bike deliveries", "Saturday mornings", None),
    (Offer.Kind.GOODS, "household", "A spare single bed frame, good condition", "", 1),
    (Offer.Kind.SKILL, "repairs", "Bike and small household repairs", "weekday evenings", None),
    (Offer.Kind.GOODS, "food", "Batch-cooked dal, six portions every Sunday", "Sundays", 6),
    (Offer.Kind.TIME, "talk", "Phone chats in Urdu and Punjabi", "afternoons", None),
    (Offer.Kind.SKILL, "other", "Help with benefit and housing forms", "Tuesday evenings", None),
]


def _create(
    group: Group, wards: dict[str, Group], item: DemoRequest, entered_by: User
) -> tuple[Request, str]:
    needed_by = None
    if item.needed_in_days is not None:
        needed_by = timezone.localdate() + timedelta(days=item.needed_in_days)
    return services.request_create(
        group=group,
        category=item.category,
        description=item.description,
        name=item.name,
        phone=item.phone,
        email=item.email,
        address=item.address,
        contact_method=ContactMethod.PHONE,
        area_group=wards.get(item.area),
        area_name=item.area or group.place,
        urgency=item.urgency,
        needed_by=needed_by,
        language=item.language,
        channel=item.channel,
        created_by=entered_by if item.channel == Channel.PHONE else None,
        recurrence=item.recurrence,
    )


def _backdate(
    request: Request,
    created: datetime,
    *,
    claimed: datetime | None = None,
    closed: datetime | None = None,
) -> None:
    """Move a request's history back in time, keeping its order of events."""
    changes: dict[str, object] = {"created_at": created}
    if claimed is not None:
        changes["first_claimed_at"] = claimed
        if request.status == Request.Status.CLAIMED:
            changes["claimed_at"] = claimed
    if closed is not None:
        changes["closed_at"] = closed
    Request.objects.filter(pk=request.pk).update(**changes)


def load_needs_demo(
    *, area: Group, wards: dict[str, Group], dispatcher: User, rng: random.Random
) -> dict[str, int]:
    """Open, claimed, done, cancelled and unmet requests and current offers in `area`."""
    volunteers = [
        membership.member
        for membership in area.memberships.select_related("member").order_by("pk")
        if membership.member_id != dispatcher.pk
    ]
    now = timezone.now()

    for item in OPEN:
        request, _secret = _create(area, wards, item, dispatcher)
        _backdate(request, now - timedelta(hours=rng.randint(1, 40)))

    for index, item in enumerate(CLAIMED):
        request, secret = _create(area, wards, item, dispatcher)
        holder = dispatcher if index == 0 else volunteers[index]
        services.request_claim(request=request, member=holder)
        if item.recurrence and request.standing_need:
            services.standing_need_commit(standing_need=request.standing_need, member=holder)
        for turn, body in enumerate(item.messages):
            if turn % 2 == 0:
                services.message_post(request=request, body=body, author=holder)
            else:
                services.message_post(request=request, body=body, secret=secret)
        request.refresh_from_db()
        created = now - timedelta(hours=rng.randint(3, 30))
        _backdate(request, created, claimed=created + timedelta(hours=2))

    for week, (category, description, ward) in enumerate(DONE):
        helper = volunteers[(week * 5 + 3) % len(volunteers)]
        request, _secret = _create(
            area,
            wards,
            DemoRequest(category, description, "Neighbour", "0161 496 0030", "", ward),
            dispatcher,
        )
        services.request_claim(request=request, member=helper)
        spent = 2340 if category == "shopping" else None
        services.request_complete(
            request=request,
            member=helper,
            notes="All done, they were very grateful.",
            spent_minor=spent,
            spent_note="Receipt from the Co-op" if spent else "",
        )
        created = now - timedelta(days=7 * week + rng.randint(1, 6), hours=rng.randint(0, 12))
        claimed = created + timedelta(hours=rng.randint(1, 30))
        _backdate(request, created, claimed=claimed, closed=claimed + timedelta(hours=5))

    for category, description, ward in UNMET:
        request, _secret = _create(
            area,
            wards,
            DemoRequest(category, description, "Neighbour", "0161 496 0040", "", ward),
            dispatcher,
        )
        past = timezone.localdate() - timedelta(days=rng.randint(3, 9))
        Request.objects.filter(pk=request.pk).update(
            needed_by=past, created_at=_start_of(past) - timedelta(days=4)
        )
    unmet = services.requests_mark_unmet()

    cancelled, _secret = _create(
        area,
        wards,
        DemoRequest("ride", "A lift to the station.", "Neighbour", "0161 496 0050", "", ""),
        dispatcher,
    )
    services.request_cancel(request=cancelled, actor=dispatcher)
    cancelled_at = now - timedelta(days=10)
    _backdate(cancelled, cancelled_at, closed=cancelled_at + timedelta(hours=3))

    for index, (kind, category, title, availability, quantity) in enumerate(OFFERS):
        services.offer_create(
            group=area,
            member=volunteers[(index * 7 + 1) % len(volunteers)],
            kind=kind,
            category=category,
            title=title,
            availability=availability,
            quantity=quantity,
            available_until=timezone.localdate() + timedelta(days=30 + 10 * index),
        )
    return {
        "requests": Request.objects.filter(group=area).count(),
        "unmet": unmet,
        "offers": len(OFFERS),
    }


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))
