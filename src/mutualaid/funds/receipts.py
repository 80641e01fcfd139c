"""Receipt files: what type they really are, and how they are kept.

The type is read from the file's first bytes (JPEG, PNG, WebP or PDF); the name and the type
the browser claims are ignored, since both are whatever the sender chose. The bytes are stored
encrypted with the field keys (Fernet, newest key first, every key decrypts) in the private
uploads folder, which is never served as files: only `funds.services.receipt_open` reads them,
for the people allowed, and audits each opening.
"""

import secrets
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from mutualaid.common.errors import ApplicationError

MAX_BYTES = 5 * 1024 * 1024
PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
ALLOWED_TYPES = (JPEG, PNG, WEBP, PDF)


class ReceiptUnreadable(Exception):
    """A stored receipt could not be decrypted with any configured key."""


def sniff_type(head: bytes) -> str | None:
    """The content type the first bytes of a file show, among the four accepted, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    # PDF readers accept the header anywhere in the first kilobyte; a receipt from a phone or a
    # shop's system starts with it.
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def read_upload(upload: UploadedFile) -> tuple[bytes, str]:
    """The upload's bytes and sniffed type; ApplicationError when it is empty, too large or not
    an image or PDF. Reads at most one byte beyond the limit, whatever size was announced."""
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ApplicationError(_too_large())
    upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ApplicationError(_too_large())
    if not data:
        raise ApplicationError(_("This file is empty. Please choose the photo or PDF again."))
    content_type = sniff_type(data[:16])
    if content_type is None:
        raise ApplicationError(
            _("Please upload a photo (JPEG, PNG or WebP) or a PDF of the receipt.")
        )
    return data, content_type


def _too_large() -> str:
    return _("This file is larger than 5 MB. Please send a smaller photo or PDF.")


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _configured() -> MultiFernet:
    return _fernet(tuple(settings.MUTUALAID_FIELD_KEYS))


def seal(data: bytes) -> bytes:
    return _configured().encrypt(data)


def unseal(token: bytes) -> bytes:
    try:
        return _configured().decrypt(token)
    except InvalidToken as error:
        raise ReceiptUnreadable("No configured key decrypts this receipt.") from error


def new_file_name() -> str:
    """A random name: nothing of the original name or the claimant reaches the disk."""
    return f"{secrets.token_hex(16)}.sealed"


def store(*, name: str, data: bytes) -> str:
    """Seal `data` and save it under `name` in the private uploads folder; the name saved."""
    return default_storage.save(name, ContentFile(seal(data)))


def load(name: str) -> bytes:
    with default_storage.open(name, "rb") as sealed:
        return unseal(sealed.read())


def remove(name: str) -> None:
    if name and default_storage.exists(name):
        default_storage.delete(name)


def reseal(name: str) -> bool:
    """Rewrite a stored receipt with the newest key (after a key rotation); whether it changed.
    For the key rotation command to call beside the encrypted fields."""
    with default_storage.open(name, "rb") as sealed:
        token = sealed.read()
    if _is_current(token):
        return False
    rotated = _configured().rotate(token)
    # FileSystemStorage never overwrites; the name must stay what the row points to.
    default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(rotated))
    if saved != name:
        raise RuntimeError(f"Receipt {name} was saved again as {saved}.")
    return True


def _is_current(token: bytes) -> bool:
    try:
        Fernet(settings.MUTUALAID_FIELD_KEYS[0]).decrypt(token)
    except InvalidToken:
        return False
    return True


def reseal_all(*, dry_run: bool = False) -> tuple[int, int, int]:
    """Reseal every stored receipt not yet under the newest key: (checked, resealed, that no
    configured key opens). With `dry_run`, counts what would be resealed and writes nothing."""
    from mutualaid.funds.models import Receipt

    checked = resealed = failed = 0
    for name in Receipt.objects.order_by("pk").values_list("file", flat=True).iterator():
        checked += 1
        try:
            with default_storage.open(name, "rb") as sealed:
                token = sealed.read()
            if _is_current(token):
                continue
            unseal(token)
        except (ReceiptUnreadable, FileNotFoundError):
            failed += 1
            continue
        if not dry_run:
            reseal(name)
        resealed += 1
    return checked, resealed, failed
