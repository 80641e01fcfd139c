"""Create a member from the command line, with a verified login address."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualaid.common.errors import ApplicationError
from mutualaid.people.services import member_create

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
        try:
            user = member_create(email=email, display_name=name, password=password)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        login = "with the password given" if password else "with a code sent by email"
        self.stdout.write(f"Created member #{user.pk} ({user.display_name}); they log in {login}.")
