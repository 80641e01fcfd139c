"""Reference codes, status-link secrets and household keys of requests.

A reference is what a requester reads out on the phone ("K7M-4QX"): six characters from an
alphabet without the look-alikes 0/O, 1/I/L. The secret in their status link is looked up by
its SHA-256 digest; the request also keeps it encrypted, only to email it to the requester. The
household key is a keyed hash of a phone number or email address, so repeat requests can be
paced without keeping the number in clear.
"""

import base64
import hashlib
import hmac
import secrets
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 6
SECRET_BYTES = 24


def new_reference() -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{code[:3]}-{code[3:]}"


def normalise_reference(text: str) -> str:
    """The stored form of a reference as someone typed it ("k7m 4qx", "K7M4QX"), or "" when it
    cannot be one."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != REFERENCE_LENGTH or any(char not in ALPHABET for char in code):
        return ""
    return f"{code[:3]}-{code[3:]}"


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, digest: str) -> bool:
    """Constant-time comparison; an empty digest (a purged request) matches nothing."""
    matches = hmac.compare_digest(secret_digest(secret), digest or "-" * 64)
    return bool(digest) and matches


@cache
def _household_hmac_key(field_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"mutualaid household key"
    ).derive(base64.urlsafe_b64decode(field_key))


def household_keys(identity: str) -> list[str]:
    """The household key of a normalised phone number or email address under every configured
    field key, newest first: the first is stored, all of them match while keys are rotated."""
    if not identity:
        return []
    return [
        hmac.new(_household_hmac_key(key), identity.encode(), hashlib.sha256).hexdigest()
        for key in settings.MUTUALAID_FIELD_KEYS
    ]
