import importlib

import pytest
from django.apps import apps
from django.test import Client

from mutualaid.people.models import Skill, User
from mutualaid.people.tests.factories import UserFactory

seed = importlib.import_module("mutualaid.people.migrations.0002_seed_shared_skills")


@pytest.fixture
def shared_skills(db: None) -> list[Skill]:
    """The skills the data migration seeds. Seeded again here because a transactional test
    elsewhere may have emptied the tables since the migrations ran."""
    seed.add_shared_skills(apps, None)
    return list(Skill.objects.filter(group=None))


@pytest.fixture
def member(db: None) -> User:
    return UserFactory(email="rosa@example.org", display_name="Rosa")


@pytest.fixture
def rosa(client: Client, member: User) -> Client:
    """The client, logged in as `member`."""
    client.force_login(member)
    return client
