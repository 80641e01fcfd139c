"""First-run secrets: generated once, kept in the data folder, never in the repository."""

import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    if path.exists():
        return path.read_text().strip()
    value = make()
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return value


def read_or_create_secret_key(data_dir: Path) -> str:
    return _read_or_create(data_dir / "secret_key", lambda: secrets.token_urlsafe(50))


def read_or_create_field_keys(data_dir: Path) -> list[str]:
    """Keys for encrypted fields, newest first, one per line in the data folder."""
    text = _read_or_create(data_dir / "field_keys", lambda: Fernet.generate_key().decode())
    return [line.strip() for line in text.splitlines() if line.strip()]
