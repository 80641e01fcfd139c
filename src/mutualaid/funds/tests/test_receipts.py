"""Receipts: the type read from the bytes, at most 5 MB, stored encrypted, opened only by
those who need it, each opening audited."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage

from mutualaid.common.errors import ApplicationError
from mutualaid.common.models import AuditEvent
from mutualaid.funds import receipts, services
from mutualaid.funds.models import Receipt
from mutualaid.funds.tests.factories import (
    JPEG,
    PDF,
    PNG,
    WEBP,
    attach,
    books,
    make_claim,
    make_group,
    member_of,
    paid,
    receipt_file,
    role_holder,
)
from mutualaid.groups.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_uploads(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp"), (PDF, "application/pdf")],
)
def test_the_type_is_read_from_the_bytes_whatever_the_name_and_claimed_type(content, content_type):
    # given: a file named and announced as something else
    claim = make_claim(make_group())
    upload = receipt_file(content, name="receipt.exe", content_type="text/html")
    # when
    receipt = services.receipt_attach(claim=claim, actor=claim.claimant, upload=upload)
    # then
    assert (receipt.content_type, receipt.size_bytes, receipt.uploaded_by) == (
        content_type,
        len(content),
        claim.claimant,
    )
    assert receipt.file.name.startswith(f"receipts/{claim.pk}/")
    assert "receipt" not in receipt.file.name.rsplit("/", 1)[1]


def test_the_stored_file_is_encrypted_and_opens_to_the_original_bytes():
    # given
    claim = make_claim(make_group())
    receipt = attach(claim, PDF)
    # when
    with default_storage.open(receipt.file.name, "rb") as stored:
        on_disk = stored.read()
    data, content_type = services.receipt_open(
        receipt=receipt, viewer=claim.claimant, where="/groups/x/funds/reimbursements/1/receipt/"
    )
    # then
    assert b"%PDF" not in on_disk
    assert (data, content_type) == (PDF, "application/pdf")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"<html><script>alert(1)</script>",
            "Please upload a photo (JPEG, PNG or WebP) or a PDF of the receipt.",
        ),
        (
            b"GIF89a" + b"\x00" * 20,
            "Please upload a photo (JPEG, PNG or WebP) or a PDF of the receipt.",
        ),
        (
            b"RIFF\x00\x00\x00\x00WAVEfmt ",
            "Please upload a photo (JPEG, PNG or WebP) or a PDF of the receipt.",
        ),
        (b"", "This file is empty. Please choose the photo or PDF again."),
        (
            PNG + b"\x00" * (5 * 1024 * 1024),
            "This file is larger than 5 MB. Please send a smaller photo or PDF.",
        ),
    ],
)
def test_anything_but_a_small_image_or_pdf_is_refused(content, message):
    claim = make_claim(make_group())
    with pytest.raises(ApplicationError) as refused:
        services.receipt_attach(claim=claim, actor=claim.claimant, upload=receipt_file(content))
    assert refused.value.message == message
    assert not Receipt.objects.filter(claim=claim).exists()


def test_a_file_of_exactly_5_mb_is_accepted():
    claim = make_claim(make_group())
    content = PNG + b"\x00" * (5 * 1024 * 1024 - len(PNG))
    assert attach(claim, content).size_bytes == 5 * 1024 * 1024


def test_a_new_receipt_replaces_the_earlier_one_until_the_claim_is_paid(
    django_capture_on_commit_callbacks,
):
    # given
    where = books(balance=5000)
    claim = make_claim(where.group, 1000)
    first = attach(claim, PNG)
    first_name = first.file.name
    # when: the earlier file is removed once the new one is committed
    with django_capture_on_commit_callbacks(execute=True):
        second = services.receipt_attach(
            claim=claim, actor=where.treasurer, upload=receipt_file(JPEG)
        )
    # then
    assert (second.pk, second.content_type, second.uploaded_by) == (
        first.pk,
        "image/jpeg",
        where.treasurer,
    )
    assert not default_storage.exists(first_name)
    assert Receipt.objects.filter(claim=claim).count() == 1
    paid(where, 1000, payee_kind="reimbursement", reimbursement=claim, purpose="Shopping")
    with pytest.raises(ApplicationError, match="already been paid or turned down"):
        attach(claim, PNG)


def test_only_the_claimant_or_a_treasurer_attaches_a_receipt():
    where = books()
    claim = make_claim(where.group)
    with pytest.raises(PermissionDenied):
        services.receipt_attach(claim=claim, actor=where.member, upload=receipt_file())
    with pytest.raises(PermissionDenied):
        services.receipt_attach(
            claim=claim, actor=role_holder(where.group, Role.DISPATCHER), upload=receipt_file()
        )


def test_each_opening_is_audited_and_only_those_who_need_it_open_it():
    # given
    where = books()
    claim = make_claim(where.group)
    receipt = attach(claim)
    dispatcher = role_holder(where.group, Role.DISPATCHER)
    # when
    for viewer in (claim.claimant, where.treasurer, dispatcher):
        services.receipt_open(receipt=receipt, viewer=viewer, where="/api/claims/1/receipt")
    # then
    events = AuditEvent.objects.filter(subject=claim.claimant).order_by("pk")
    assert [(e.actor_id, e.fields, e.channel) for e in events] == [
        (claim.claimant.pk, ["receipt"], "api"),
        (where.treasurer.pk, ["receipt"], "api"),
        (dispatcher.pk, ["receipt"], "api"),
    ]
    for outsider in (where.member, role_holder(where.group, Role.STEWARD), member_of(make_group())):
        with pytest.raises(PermissionDenied):
            services.receipt_open(receipt=receipt, viewer=outsider, where="/")
    assert AuditEvent.objects.filter(subject=claim.claimant).count() == 3


def test_a_receipt_sealed_with_an_old_key_opens_and_is_resealed_with_the_new_one(settings):
    # given: a receipt stored, then a new key put first
    from cryptography.fernet import Fernet

    claim = make_claim(make_group())
    receipt = attach(claim, JPEG)
    settings.MUTUALAID_FIELD_KEYS = [Fernet.generate_key().decode(), *settings.MUTUALAID_FIELD_KEYS]
    # when
    changed = receipts.reseal(receipt.file.name)
    # then
    assert (changed, receipts.reseal(receipt.file.name)) == (True, False)
    settings.MUTUALAID_FIELD_KEYS = settings.MUTUALAID_FIELD_KEYS[:1]
    assert receipts.load(receipt.file.name) == JPEG


def test_a_receipt_no_key_opens_is_reported_plainly(settings):
    from cryptography.fernet import Fernet

    claim = make_claim(make_group())
    receipt = attach(claim)
    settings.MUTUALAID_FIELD_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ApplicationError) as refused:
        services.receipt_open(receipt=receipt, viewer=claim.claimant, where="/")
    assert (refused.value.status, refused.value.message) == (
        410,
        "This receipt cannot be opened. Please ask for it to be uploaded again.",
    )


def test_every_receipt_is_resealed_after_a_key_rotation(settings):
    # given: two receipts under the old key, then a new key first
    from cryptography.fernet import Fernet

    first = attach(make_claim(make_group()), PNG)
    attach(make_claim(make_group()), PDF)
    settings.MUTUALAID_FIELD_KEYS = [Fernet.generate_key().decode(), *settings.MUTUALAID_FIELD_KEYS]
    # when
    counted = receipts.reseal_all(dry_run=True)
    done = receipts.reseal_all()
    # then
    assert (counted, done, receipts.reseal_all()) == ((2, 2, 0), (2, 2, 0), (2, 0, 0))
    settings.MUTUALAID_FIELD_KEYS = settings.MUTUALAID_FIELD_KEYS[:1]
    assert receipts.load(first.file.name) == PNG
