"""The demo group's books: a hardship fund and a shopping float with two months of
contributions, payments confirmed by a second member, a correction and a volunteer paid back
against a receipt, all made through the same services as real use, at the dates they show."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mutualaid.funds import services
from mutualaid.funds.models import Contribution, Disbursement, Fund
from mutualaid.groups.models import Group
from mutualaid.needs.models import ReimbursementClaim, Request
from mutualaid.people.models import User

HARDSHIP_FUND = "Hardship fund"
SHOPPING_FLOAT = "Shopping float"


@dataclass(frozen=True)
class DemoContribution:
    days_ago: int
    amount_minor: int
    method: str
    source: str  # a name, "" for anonymous, or "member" for the member who gave it
    reference: str = ""
    fund: str = HARDSHIP_FUND


CONTRIBUTIONS = [
    DemoContribution(
        58,
        25000,
        Contribution.Method.BANK_TRANSFER,
        "Friday collection, Victoria Park mosque",
        "VPM-COLL-0917",
    ),
    DemoContribution(
        57, 20000, Contribution.Method.CASH, "Bake sale at Levenshulme Market", fund=SHOPPING_FLOAT
    ),
    DemoContribution(52, 2000, Contribution.Method.CASH, ""),
    DemoContribution(44, 10000, Contribution.Method.BANK_TRANSFER, "member", "MA-NO-01"),
    DemoContribution(37, 3500, Contribution.Method.CASH, ""),
    DemoContribution(
        30,
        50000,
        Contribution.Method.BANK_TRANSFER,
        "Burnage Allotment Society plant sale",
        "BAS-PLANTS",
    ),
    DemoContribution(23, 1500, Contribution.Method.CASH, ""),
    DemoContribution(16, 6000, Contribution.Method.OTHER, "Quiz night at the Victoria", "QUIZ-OCT"),
    DemoContribution(9, 2500, Contribution.Method.BANK_TRANSFER, "", "STO-8841"),
    DemoContribution(5, 5000, Contribution.Method.CASH, "", fund=SHOPPING_FLOAT),
]

# Within the group's spending limit: a treasurer asks, a second member confirms.
PAYMENTS = [
    (49, 4000, "Electricity meter top-up", Disbursement.PayeeKind.REQUEST, ""),
    (33, 4500, "School shoes for two children", Disbursement.PayeeKind.REQUEST, ""),
    (
        19,
        3000,
        "Weekly bus pass for job interviews",
        Disbursement.PayeeKind.PAYEE,
        "Stagecoach Manchester",
    ),
]

# The till receipt a volunteer photographed for their claim, as a minimal one-page PDF.
RECEIPT_LINES = (
    "Co-op Levenshulme",
    "Milk, bread, soup, oats",
    "Fruit and a loaf",
    "TOTAL GBP 23.40",
)


def receipt_pdf() -> bytes:
    text = " ".join(f"({line}) Tj 0 -18 Td" for line in RECEIPT_LINES)
    stream = f"BT /F1 11 Tf 20 260 Td {text} ET".encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 226 300]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d>>stream\n%s\nendstream" % (len(stream), stream),
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    body = b"".join(b"%d 0 obj%s endobj\n" % (n, obj) for n, obj in enumerate(objects, 1))
    return b"%PDF-1.4\n" + body + b"trailer<</Root 1 0 R>>\n%%EOF\n"


def load_funds_demo(
    *, group: Group, treasurer: User, confirmers: tuple[User, User], contributor: User
) -> dict[str, Fund]:
    """The group's two funds with their history. `treasurer` records and asks; the first of
    `confirmers` confirms (the second where the first is the one paid back); `contributor` is
    the member who gave under their own name."""
    confirmer = confirmers[0]
    now = timezone.now()
    funds = {
        HARDSHIP_FUND: services.fund_create(
            group=group,
            actor=treasurer,
            name=HARDSHIP_FUND,
            purpose=(
                "Small grants for neighbours in a tight spot: a meter top-up, school shoes, a bus "
                "pass for a job interview. No forms and no questions beyond what the help needs."
            ),
        ),
        SHOPPING_FLOAT: services.fund_create(
            group=group,
            actor=treasurer,
            name=SHOPPING_FLOAT,
            purpose="Pays volunteers back for shopping they bought for neighbours who could not "
            "pay at the door.",
        ),
    }
    for item in CONTRIBUTIONS:
        services.contribution_record(
            fund=funds[item.fund],
            actor=treasurer,
            amount_minor=item.amount_minor,
            method=item.method,
            contributor=contributor if item.source == "member" else None,
            contributor_name="" if item.source == "member" else item.source,
            reference=item.reference,
            received_at=_at(now, item.days_ago),
        )

    # Recorded twice by mistake, and corrected the next day.
    twice = services.contribution_record(
        fund=funds[HARDSHIP_FUND],
        actor=treasurer,
        amount_minor=1500,
        method=Contribution.Method.CASH,
        received_at=_at(now, 23, hour=15),
    )
    services.transaction_reverse(
        transaction=twice.transaction,
        actor=treasurer,
        reason="Recorded twice: the bucket at the community centre",
        now=_at(now, 22),
    )

    done = list(Request.objects.filter(group=group, status=Request.Status.DONE).order_by("pk"))
    for index, (days_ago, amount, purpose, payee_kind, payee_name) in enumerate(PAYMENTS):
        asked = services.disbursement_request(
            fund=funds[HARDSHIP_FUND],
            actor=treasurer,
            amount_minor=amount,
            purpose=purpose,
            payee_kind=payee_kind,
            request=done[index] if payee_kind == Disbursement.PayeeKind.REQUEST else None,
            payee_name=payee_name,
            now=_at(now, days_ago),
        )
        services.disbursement_confirm(
            disbursement=asked, actor=confirmer, now=_at(now, days_ago, hour=18)
        )

    for claim in ReimbursementClaim.objects.filter(
        request__group=group, status=ReimbursementClaim.Status.PENDING
    ).select_related("claimant", "request"):
        services.receipt_attach(
            claim=claim,
            actor=claim.claimant,
            upload=SimpleUploadedFile("receipt.pdf", receipt_pdf(), "application/pdf"),
        )
        asked = services.disbursement_request(
            fund=funds[SHOPPING_FLOAT],
            actor=treasurer,
            amount_minor=claim.amount_minor,
            purpose="Shopping bought for a neighbour",
            payee_kind=Disbursement.PayeeKind.REIMBURSEMENT,
            reimbursement=claim,
            now=_at(now, 2),
        )
        second = confirmers[1] if claim.claimant_id == confirmer.pk else confirmer
        services.disbursement_confirm(disbursement=asked, actor=second, now=_at(now, 1))

    # Asked for this morning; a second member has yet to confirm it.
    services.disbursement_request(
        fund=funds[HARDSHIP_FUND],
        actor=treasurer,
        amount_minor=2500,
        purpose="Taxi to the Royal Infirmary and back for a hospital appointment",
        payee_kind=Disbursement.PayeeKind.PAYEE,
        payee_name="Manchester Cars",
    )
    return funds


def _at(now: datetime, days_ago: int, *, hour: int = 11) -> datetime:
    return (now - timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0, microsecond=0)
