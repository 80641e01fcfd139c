"""Rewrite every encrypted value with the newest key, after a new key was put first.

Rotation: put a new key first in MUTUALAID_FIELD_KEYS (keeping the old ones after it), run this
command, then remove the old keys. Encrypted fields are found on every installed model, so the
fields of apps added later are covered without changing this command.
"""

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models.functions import Cast

from mutualaid.common import crypto
from mutualaid.common.fields import (
    EncryptedAllauthEmailField,
    EncryptedEmailField,
    EncryptedTextField,
)

DETERMINISTIC_FIELD_CLASSES = (EncryptedEmailField, EncryptedAllauthEmailField)
ENCRYPTED_FIELD_CLASSES = (EncryptedTextField, *DETERMINISTIC_FIELD_CLASSES)


def encrypted_fields() -> Iterator[tuple[type[models.Model], list[models.Field]]]:
    """Each concrete model with the encrypted fields it stores."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields: list[models.Field] = [
            field
            for field in model._meta.concrete_fields
            if isinstance(field, ENCRYPTED_FIELD_CLASSES)
        ]
        if fields:
            yield model, fields


def _is_deterministic(field: models.Field) -> bool:
    return isinstance(field, DETERMINISTIC_FIELD_CLASSES)


def _needs_rewrite(field: models.Field, stored: str) -> bool:
    if _is_deterministic(field):
        # Anything without the prefix was written before encryption: encrypt it now.
        return not stored.startswith(crypto.DETERMINISTIC_PREFIX) or not crypto.is_current(stored)
    try:
        return not crypto.is_current(stored)
    except UnicodeError:
        return True


def _plaintext(field: models.Field, stored: str) -> str:
    if _is_deterministic(field):
        if not stored.startswith(crypto.DETERMINISTIC_PREFIX):
            return stored
        return crypto.decrypt_deterministic(stored)
    return crypto.decrypt(stored)


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field of every model with the newest key in "
        "MUTUALAID_FIELD_KEYS, so older keys can then be removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=500, help="rows read and written at a time"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would change, change nothing"
        )

    def handle(self, *args: Any, batch_size: int, dry_run: bool, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        failures = 0
        for model, fields in encrypted_fields():
            label = model._meta.label
            for field in fields:
                checked, rewritten, failed = self._rewrite_field(
                    model, field, batch_size=batch_size, dry_run=dry_run
                )
                failures += failed
                verb = "would be re-encrypted" if dry_run else "re-encrypted"
                line = f"{label}.{field.name}: {rewritten} of {checked} values {verb}"
                if failed:
                    line += f", {failed} could not be decrypted with any configured key"
                self.stdout.write(line)
        # Receipts of reimbursement claims are files sealed with the same keys.
        from mutualaid.funds.receipts import reseal_all

        checked, rewritten, failed = reseal_all(dry_run=dry_run)
        failures += failed
        verb = "would be resealed" if dry_run else "resealed"
        line = f"funds receipts: {rewritten} of {checked} files {verb}"
        if failed:
            line += f", {failed} could not be opened with any configured key"
        self.stdout.write(line)
        if failures:
            raise CommandError(
                f"{failures} values could not be decrypted: keep the keys that encrypted them "
                "in MUTUALAID_FIELD_KEYS."
            )

    def _rewrite_field(
        self, model: type[models.Model], field: models.Field, *, batch_size: int, dry_run: bool
    ) -> tuple[int, int, int]:
        """Rewrite one field's stale values, batch by batch in primary-key order.

        Each batch is read with its rows locked and written in the same transaction, so a
        member editing their profile meanwhile cannot be overwritten with an older value.
        """
        manager = model._base_manager
        pk_name = model._meta.pk.attname
        checked = rewritten = failed = 0
        last_pk: Any = None
        while True:
            with transaction.atomic():
                rows = manager.exclude(**{f"{field.attname}__isnull": True})
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                # The cast reads the stored ciphertext itself, without the field decrypting it.
                batch = list(
                    rows.select_for_update()
                    .order_by("pk")
                    .annotate(_stored=Cast(field.attname, models.TextField()))
                    .values_list("pk", "_stored")[:batch_size]
                )
                if not batch:
                    break
                last_pk = batch[-1][0]
                stale = []
                for pk, stored in batch:
                    if not stored:
                        continue
                    checked += 1
                    if not _needs_rewrite(field, stored):
                        continue
                    try:
                        plaintext = _plaintext(field, stored)
                    except crypto.DecryptionError:
                        failed += 1
                        continue
                    instance = model(**{pk_name: pk})
                    setattr(instance, field.attname, plaintext)
                    stale.append(instance)
                rewritten += len(stale)
                if stale and not dry_run:
                    manager.bulk_update(stale, [field.name], batch_size=batch_size)
        return checked, rewritten, failed
