"""Authenticated encryption of personal data, with several keys so they can be rotated.

Keys come from settings.MUTUALAID_FIELD_KEYS (Fernet keys, newest first). The newest encrypts,
every key decrypts, and `mutualaid manage reencrypt_fields` rewrites all values with the newest.

Two schemes:
- randomised (Fernet: AES-CBC with HMAC-SHA256): the same text encrypts differently every time;
  used for anything that is never searched for (phone, address, names);
- deterministic (AES-SIV): the same text gives the same ciphertext under one key, so an email
  address can be looked up by equality without ever being stored in clear. Each key derives
  its own SIV key, so lookups try every key and rotation works the same way.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DETERMINISTIC_PREFIX = "siv:"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@cache
def _keys(keys: tuple[str, ...]) -> tuple[MultiFernet, list[tuple[str, AESSIV]]]:
    if not keys:
        raise ImproperlyConfigured("MUTUALAID_FIELD_KEYS must list at least one key.")
    try:
        fernets = [Fernet(key) for key in keys]
    except ValueError as error:
        raise ImproperlyConfigured(
            "Every MUTUALAID_FIELD_KEYS entry must be a Fernet key (32 url-safe base64 bytes)."
        ) from error
    sivs = []
    for key in keys:
        raw = base64.urlsafe_b64decode(key)
        derived = HKDF(
            algorithm=hashes.SHA256(), length=64, salt=None, info=b"mutualaid deterministic"
        ).derive(raw)
        key_id = hashlib.sha256(derived).hexdigest()[:6]
        sivs.append((key_id, AESSIV(derived)))
    return MultiFernet(fernets), sivs


def _configured() -> tuple[MultiFernet, list[tuple[str, AESSIV]]]:
    return _keys(tuple(settings.MUTUALAID_FIELD_KEYS))


def encrypt(plaintext: str) -> str:
    return _configured()[0].encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _configured()[0].decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as error:
        raise DecryptionError("No configured key decrypts this value.") from error


def encrypt_deterministic(plaintext: str, *, key_index: int = 0) -> str:
    key_id, siv = _configured()[1][key_index]
    sealed = siv.encrypt(plaintext.encode(), None)
    return f"{DETERMINISTIC_PREFIX}{key_id}:{base64.urlsafe_b64encode(sealed).decode('ascii')}"


def encrypt_deterministic_all_keys(plaintext: str) -> list[str]:
    """The ciphertext under every configured key: what an equality lookup must match."""
    return [encrypt_deterministic(plaintext, key_index=i) for i in range(key_count())]


def decrypt_deterministic(token: str) -> str:
    try:
        _, key_id, body = token.split(":", 2)
        for candidate_id, siv in _configured()[1]:
            if candidate_id == key_id:
                return siv.decrypt(base64.urlsafe_b64decode(body), None).decode()
    except Exception as error:
        raise DecryptionError("No configured key decrypts this value.") from error
    raise DecryptionError("The key that encrypted this value is no longer configured.")


def is_current(token: str) -> bool:
    """Whether a stored value is already encrypted with the newest key."""
    if token.startswith(DETERMINISTIC_PREFIX):
        return token.split(":", 2)[1] == _configured()[1][0][0]
    try:
        Fernet(settings.MUTUALAID_FIELD_KEYS[0]).decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def key_count() -> int:
    return len(settings.MUTUALAID_FIELD_KEYS)
