"""Print a new personal API token for a member."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualaid.people.models import User
from mutualaid.people.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create a personal API token for the member with this email address and print it. "
        "It is shown only once; only its digest is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="Command line", help="what the token is for")

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        # An erased member is never active, and their address is gone too.
        user = User.objects.filter(email=email, is_active=True).first()
        if user is None:
            raise CommandError(f"No active member has the email address '{email}'.")
        _token, raw = api_token_create(user=user, name=name)
        self.stdout.write(raw)
