"""Load the Manchester demo data (see mutualaid.demo); running it again changes nothing."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from mutualaid.demo import load_demo, login_instructions


class Command(BaseCommand):
    help = "Load demo groups and members in south Manchester. Safe to run more than once."

    def handle(self, *args: Any, **options: Any) -> None:
        load_demo(stdout=self.stdout)
        self.stdout.write(login_instructions(site_url=settings.SITE_URL))
