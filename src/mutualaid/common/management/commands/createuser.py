"""Create a member from the command line, with a verified login address."""

from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from mutualaid.common.errors import ApplicationError
from mutualaid.people.models import User
from mutualaid.people.services import clean_display_name

DEFAULT_DISPLAY_NAME = "Member"


class Command(BaseCommand):
    help = (
        "Create a member whose email address is already verified. Without --password the member "
        "logs in with a code sent by email."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", default=None)
        parser.add_argument(
            "--name",
            default=DEFAULT_DISPLAY_NAME,
            help=f"display name other members see (default '{DEFAULT_DISPLAY_NAME}')",
        )

    def handle(
        self, *args: Any, email: str, password: str | None, name: str, **options: Any
    ) -> None:
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"'{email}' is not a valid email address.") from error
        try:
            display_name = clean_display_name(name)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        taken = CommandError(f"A member with the email address '{email}' already exists.")
        if (
            User.objects.filter(email=email).exists()
            or EmailAddress.objects.filter(email=email).exists()
        ):
            raise taken
        if password is not None:
            try:
                validate_password(password, User(email=email, display_name=display_name))
            except ValidationError as error:
                raise CommandError(
                    "The password is too weak: " + " ".join(error.messages)
                ) from error
        try:
            with transaction.atomic():
                user = User.objects.create_user(email, password, display_name=display_name)
                EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        except IntegrityError as error:  # the same address, created a moment ago elsewhere
            raise taken from error
        login = "with the password given" if password else "with a code sent by email"
        self.stdout.write(f"Created member #{user.pk} ({display_name}); they log in {login}.")
