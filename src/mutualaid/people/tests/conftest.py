import importlib

import pytest
from django.apps import apps

from mutualaid.people.models import Skill

seed = importlib.import_module("mutualaid.people.migrations.0002_seed_shared_skills")


@pytest.fixture
def shared_skills(db: None) -> list[Skill]:
    """The skills the data migration seeds. Seeded again here because a transactional test
    elsewhere may have emptied the tables since the migrations ran."""
    seed.add_shared_skills(apps, None)
    return list(Skill.objects.filter(group=None))
