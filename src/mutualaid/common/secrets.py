"""First-run secrets: generated once, kept in the data folder, never in the repository."""

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The secret stored at `path`, made on first use.

    Several processes may start at once on a new install (web workers, the task worker, a
    command): the file appears whole or not at all (written aside, then hard-linked into place,
    which fails if it exists), so they all end up with the one secret. Two different field keys
    would leave data that only one process could read.
    """
    if not path.exists():
        descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "w") as file:  # mkstemp makes it 0600
                file.write(make() + "\n")
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the secret
        finally:
            os.unlink(draft)
    return path.read_text().strip()


def read_or_create_secret_key(data_dir: Path) -> str:
    return _read_or_create(data_dir / "secret_key", lambda: secrets.token_urlsafe(50))


def read_or_create_field_keys(data_dir: Path) -> list[str]:
    """Keys for encrypted fields, newest first, one per line in the data folder."""
    text = _read_or_create(data_dir / "field_keys", lambda: Fernet.generate_key().decode())
    return [line.strip() for line in text.splitlines() if line.strip()]
