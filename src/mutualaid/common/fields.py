"""Model fields that keep personal data encrypted at rest (see crypto.py for the schemes)."""

from typing import Any

from django import forms
from django.core import validators
from django.db import models
from django.db.models.lookups import Exact, In, IsNull

from mutualaid.common import crypto


class EncryptedTextField(models.TextField):
    """Text stored with randomised authenticated encryption; it can be read, never searched.

    The empty string stays empty so "not given" needs no key to tell.
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in {"isnull", "exact"}:
            raise TypeError(f"Encrypted fields cannot be searched with '{lookup_name}'.")
        return super().get_lookup(lookup_name)


class EncryptedTextIsEmpty(Exact):
    """`exact` on randomised ciphertext can only tell "given" from "not given": comparing with
    any other value would silently match nothing, so it is refused."""

    lookup_name = "exact"

    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise TypeError("Encrypted text can only be compared with the empty string.")
        return self.rhs


EncryptedTextField.register_lookup(EncryptedTextIsEmpty)


class _DeterministicEmailMixin:
    """An email address stored with deterministic encryption of its lower-case form.

    Equality lookups (`exact`, `in`) compare against the ciphertext under every configured key,
    so they keep working while keys are rotated.
    """

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)  # type: ignore[misc]
        return value.strip().lower() if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)  # type: ignore[misc]
        if value is None or value == "" or str(value).startswith(crypto.DETERMINISTIC_PREFIX):
            return value
        return crypto.encrypt_deterministic(str(value).strip().lower())

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "" or not value.startswith(crypto.DETERMINISTIC_PREFIX):
            return value
        return crypto.decrypt_deterministic(value)


class EncryptedEmailExact(In):
    lookup_name = "exact"
    prepare_rhs = False

    def __new__(cls, lhs: Any, rhs: Any) -> Any:
        # Comparing with another column compares ciphertexts: only allauth's first migration
        # does that, on a table that is still empty.
        if hasattr(rhs, "resolve_expression"):
            return Exact(lhs, rhs)
        return super().__new__(cls)

    def get_prep_lookup(self) -> Any:
        return crypto.encrypt_deterministic_all_keys(str(self.rhs).strip().lower())


class EncryptedEmailIn(In):
    lookup_name = "in"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return [
            token
            for value in self.rhs
            for token in crypto.encrypt_deterministic_all_keys(str(value).strip().lower())
        ]


class EncryptedEmailField(_DeterministicEmailMixin, models.TextField):
    default_validators = [validators.validate_email]

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": forms.EmailField, **kwargs})

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in {"exact", "in", "isnull"}:
            raise TypeError(f"Encrypted email fields cannot be searched with '{lookup_name}'.")
        return super().get_lookup(lookup_name)


class EncryptedAllauthEmailField(_DeterministicEmailMixin, models.EmailField):
    """Replaces the class of allauth's EmailAddress.email (see people.apps) so login addresses
    are encrypted there too. It reports itself as a plain EmailField to the migration
    autodetector: the column is unchanged, only what is written into it."""

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.EmailField", args, kwargs


for _field_class in (EncryptedEmailField, EncryptedAllauthEmailField):
    _field_class.register_lookup(EncryptedEmailExact)
    _field_class.register_lookup(EncryptedEmailIn)
    _field_class.register_lookup(IsNull)
