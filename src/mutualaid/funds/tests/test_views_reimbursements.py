"""Reimbursement claims: who sees them, paying and turning them down, and receipts: uploaded
when a request is marked done or later, checked by their bytes, opened only by the claimant,
treasurers and dispatchers."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mutualaid.common.models import AuditEvent
from mutualaid.funds import services
from mutualaid.funds.models import Disbursement, Receipt
from mutualaid.funds.tests.test_views_support import (
    Books,
    books_fixture,  # noqa: F401 (the fixture `books`)
    contribute,
    holder_of,
    logged_in,
)
from mutualaid.groups.models import Role
from mutualaid.needs import services as needs_services
from mutualaid.needs.models import ReimbursementClaim, Request
from mutualaid.needs.tests.factories import claimed_request, member_of
from mutualaid.people.models import User

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@dataclass
class Claims:
    books: Books
    volunteer: User
    dispatcher: User
    claim: ReimbursementClaim
    other_claim: ReimbursementClaim

    def url(self, name: str, claim: ReimbursementClaim | None = None) -> str:
        return self.books.url(name, None if claim is None else claim.pk)


def completed_with_claim(books: Books, volunteer: User, spent_minor: int) -> ReimbursementClaim:
    request, _member = claimed_request(books.group, member=volunteer)
    claim = needs_services.request_complete(
        request=request, member=volunteer, spent_minor=spent_minor, spent_note="Groceries"
    )
    assert claim is not None
    return claim


def upload(content: bytes, name: str = "receipt.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


@pytest.fixture
def claims(books: Books) -> Claims:
    volunteer = member_of(books.group, display_name="Val Volunteer")
    return Claims(
        books=books,
        volunteer=volunteer,
        dispatcher=holder_of(books.group, Role.DISPATCHER),
        claim=completed_with_claim(books, volunteer, 1250),
        other_claim=completed_with_claim(
            books, member_of(books.group, display_name="Oli Other"), 800
        ),
    )


def attach(claims: Claims, content: bytes = PNG) -> Receipt:
    return services.receipt_attach(
        claim=claims.claim, actor=claims.volunteer, upload=upload(content)
    )


# The list of claims


def test_treasurers_see_every_pending_claim_with_its_receipt_and_the_forms(claims: Claims) -> None:
    attach(claims)

    response = logged_in(claims.books.treasurer).get(claims.url("reimbursements"))

    assert response.status_code == 200
    html = response.content.decode()
    reference = claims.claim.request.reference
    assert f"£12.50 for request {reference}" in html
    assert "<dt>Claimed by</dt><dd>Val Volunteer</dd>" in html
    assert "Oli Other" in html
    assert f'<a href="{claims.url("receipt", claims.claim)}">Open the receipt</a>' in html
    assert f'<a href="{claims.url("receipt", claims.other_claim)}">' not in html
    assert claims.url("reimbursement_pay", claims.claim) in html
    assert claims.url("reimbursement_reject", claims.claim) in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_dispatchers_see_every_claim_but_cannot_pay_or_turn_down(claims: Claims) -> None:
    html = logged_in(claims.dispatcher).get(claims.url("reimbursements")).content.decode()

    assert "Val Volunteer" in html
    assert "Oli Other" in html
    assert claims.url("reimbursement_pay", claims.claim) not in html
    assert claims.url("reimbursement_reject", claims.claim) not in html


def test_a_plain_member_sees_only_their_own_claims(claims: Claims) -> None:
    html = logged_in(claims.volunteer).get(claims.url("reimbursements")).content.decode()

    assert "<h1>My claims</h1>" in html
    assert claims.claim.request.reference in html
    assert claims.other_claim.request.reference not in html
    assert "Oli Other" not in html
    assert claims.url("receipt_upload", claims.claim) in html
    assert claims.url("reimbursement_pay", claims.claim) not in html


@pytest.mark.parametrize("who", ["outsider", "anonymous"])
def test_people_outside_the_group_see_no_claims(claims: Claims, who: str) -> None:
    user = claims.books.outsider if who == "outsider" else None

    response = logged_in(user).get(claims.url("reimbursements"))

    assert response.status_code == (403 if user else 302)


# Paying and turning down


def test_a_treasurer_pays_a_claim_from_a_fund_and_a_second_member_confirms(
    claims: Claims,
) -> None:
    contribute(claims.books, 10000)
    attach(claims)

    response = logged_in(claims.books.treasurer).post(
        claims.url("reimbursement_pay", claims.claim), {"fund": claims.books.fund.pk}
    )

    assert response.status_code == 302
    disbursement = Disbursement.objects.get(reimbursement=claims.claim)
    assert disbursement.status == Disbursement.Status.AWAITING_CONFIRMATION
    assert (disbursement.amount_minor, disbursement.fund) == (1250, claims.books.fund)
    assert disbursement.purpose == (
        f"Paying back what a volunteer spent on request {claims.claim.request.reference}"
    )
    services.disbursement_confirm(disbursement=disbursement, actor=claims.books.member)
    claims.claim.refresh_from_db()
    assert claims.claim.status == ReimbursementClaim.Status.PAID


@pytest.mark.parametrize("who", ["member", "dispatcher", "volunteer"])
def test_only_treasurers_pay_claims(claims: Claims, who: str) -> None:
    user = claims.books.member if who == "member" else getattr(claims, who)

    response = logged_in(user).post(
        claims.url("reimbursement_pay", claims.claim), {"fund": claims.books.fund.pk}
    )

    assert response.status_code == 403
    assert not Disbursement.objects.exists()


def test_a_treasurer_turns_a_claim_down_with_a_reason(claims: Claims) -> None:
    client = logged_in(claims.books.treasurer)

    empty = client.post(claims.url("reimbursement_reject", claims.claim), {"reason": ""})
    response = client.post(
        claims.url("reimbursement_reject", claims.claim), {"reason": "Bought for a party"}
    )

    assert empty.status_code == 400
    assert response.status_code == 302
    claims.claim.refresh_from_db()
    assert claims.claim.status == ReimbursementClaim.Status.REJECTED


def test_the_claimant_sees_why_their_claim_was_not_paid(claims: Claims) -> None:
    services.reimbursement_reject(
        claim=claims.claim, actor=claims.books.treasurer, reason="Bought for a party"
    )

    html = logged_in(claims.volunteer).get(claims.url("reimbursements")).content.decode()
    others = logged_in(claims.books.member).get(claims.url("reimbursements")).content.decode()

    assert "Your claims decided lately" in html
    assert "not paid: Bought for a party" in html
    assert "Bought for a party" not in others


@pytest.mark.parametrize("who", ["member", "dispatcher", "volunteer"])
def test_only_treasurers_turn_claims_down(claims: Claims, who: str) -> None:
    user = claims.books.member if who == "member" else getattr(claims, who)

    response = logged_in(user).post(
        claims.url("reimbursement_reject", claims.claim), {"reason": "No"}
    )

    assert response.status_code == 403
    claims.claim.refresh_from_db()
    assert claims.claim.status == ReimbursementClaim.Status.PENDING


# Opening a receipt


@pytest.mark.parametrize("who", ["volunteer", "treasurer", "dispatcher"])
def test_the_claimant_treasurers_and_dispatchers_open_the_receipt(claims: Claims, who: str) -> None:
    attach(claims)
    user = claims.books.treasurer if who == "treasurer" else getattr(claims, who)

    response = logged_in(user).get(claims.url("receipt", claims.claim))

    assert response.status_code == 200
    assert response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'inline; filename="receipt-{claims.claim.pk}.png"'
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(actor_id=user.pk)
    assert (event.subject_id, event.fields) == (claims.volunteer.pk, ["receipt"])


def test_a_pdf_receipt_is_downloaded_not_shown(claims: Claims) -> None:
    attach(claims, PDF)

    response = logged_in(claims.volunteer).get(claims.url("receipt", claims.claim))

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="receipt-{claims.claim.pk}.pdf"'
    )


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_anyone_else_finds_no_receipt(claims: Claims, who: str) -> None:
    attach(claims)
    user = getattr(claims.books, who)

    response = logged_in(user).get(claims.url("receipt", claims.claim))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(actor_id=user.pk).exists()


def test_a_claim_without_a_receipt_has_none_to_open(claims: Claims) -> None:
    response = logged_in(claims.volunteer).get(claims.url("receipt", claims.claim))

    assert response.status_code == 404


# Uploading a receipt


def test_the_claimant_uploads_and_then_replaces_the_receipt(claims: Claims) -> None:
    client = logged_in(claims.volunteer)
    assert client.get(claims.url("receipt_upload", claims.claim)).status_code == 200

    first = client.post(claims.url("receipt_upload", claims.claim), {"receipt": upload(PNG)})
    second = client.post(
        claims.url("receipt_upload", claims.claim), {"receipt": upload(PDF, "scan.pdf")}
    )

    assert (first.status_code, second.status_code) == (302, 302)
    receipt = Receipt.objects.get(claim=claims.claim)
    assert (receipt.content_type, receipt.size_bytes) == ("application/pdf", len(PDF))


def test_a_program_renamed_as_a_photo_is_refused_with_a_form_error(claims: Claims) -> None:
    response = logged_in(claims.volunteer).post(
        claims.url("receipt_upload", claims.claim), {"receipt": upload(EXE, "receipt.jpg")}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "receipt": ["Please upload a photo (JPEG, PNG or WebP) or a PDF of the receipt."]
    }
    assert not Receipt.objects.exists()


def test_a_file_over_5_mb_is_refused_with_a_form_error(claims: Claims) -> None:
    big = PNG + b"\x00" * (6 * 1024 * 1024)

    response = logged_in(claims.volunteer).post(
        claims.url("receipt_upload", claims.claim), {"receipt": upload(big)}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "receipt": ["This file is 6.0\xa0MB. A receipt can be at most 5.0\xa0MB."]
    }
    assert not Receipt.objects.exists()


@pytest.mark.parametrize("who", ["member", "dispatcher"])
def test_nobody_else_uploads_a_receipt_for_a_claim(claims: Claims, who: str) -> None:
    user = claims.books.member if who == "member" else claims.dispatcher

    response = logged_in(user).post(
        claims.url("receipt_upload", claims.claim), {"receipt": upload(PNG)}
    )

    assert response.status_code == 403
    assert not Receipt.objects.exists()


# A receipt with the request marked done


def complete(client: Any, request: Request, **data: Any) -> Any:
    data.setdefault("notes", "")
    data.setdefault("spent_note", "Groceries")
    return client.post(reverse("needs:request_complete", kwargs={"pk": request.pk}), data)


def test_a_receipt_sent_with_marking_done_goes_with_the_claim(books: Books) -> None:
    request, volunteer = claimed_request(books.group)

    response = complete(logged_in(volunteer), request, spent="12.50", receipt=upload(PNG))

    assert response.status_code == 302
    claim = ReimbursementClaim.objects.get(request=request)
    assert claim.amount_minor == 1250
    assert Receipt.objects.get(claim=claim).content_type == "image/png"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (EXE, "Please upload a photo (JPEG, PNG or WebP) or a PDF of the receipt."),
        (
            PNG + b"\x00" * (6 * 1024 * 1024),
            "This file is 6.0\xa0MB. A receipt can be at most 5.0\xa0MB.",
        ),
    ],
)
def test_a_bad_receipt_leaves_the_request_held_with_a_form_error(
    books: Books, content: bytes, error: str
) -> None:
    request, volunteer = claimed_request(books.group)

    response = complete(
        logged_in(volunteer), request, spent="12.50", receipt=upload(content, "a.jpg")
    )

    assert response.status_code == 400
    assert response.context["complete_form"].errors == {"receipt": [error]}
    request.refresh_from_db()
    assert request.status == Request.Status.CLAIMED
    assert not ReimbursementClaim.objects.exists()


def test_a_receipt_without_an_amount_asks_for_the_amount(books: Books) -> None:
    request, volunteer = claimed_request(books.group)

    response = complete(logged_in(volunteer), request, spent="", receipt=upload(PNG))

    assert response.status_code == 400
    assert response.context["complete_form"].errors == {
        "spent": ["Say what you spent, so the receipt goes with it."]
    }


def test_the_done_form_sends_files(books: Books) -> None:
    request, volunteer = claimed_request(books.group)

    html = (
        logged_in(volunteer)
        .get(reverse("needs:request_detail", kwargs={"pk": request.pk}))
        .content.decode()
    )

    assert 'enctype="multipart/form-data"' in html
    assert 'name="receipt"' in html
