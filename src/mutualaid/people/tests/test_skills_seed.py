"""The data migration that seeds the skills every group offers."""

import pytest
from django.apps import apps

from mutualaid.people.models import Skill
from mutualaid.people.tests.conftest import seed


def test_the_seed_is_a_reversible_data_migration_of_its_own() -> None:
    # then
    [operation] = seed.Migration.operations
    assert operation.reversible
    assert operation.code is seed.add_shared_skills
    assert operation.reverse_code is seed.remove_shared_skills
    assert len(seed.SHARED_SKILLS) == 13


@pytest.mark.django_db
def test_the_seed_adds_shared_skills_once_and_reverses_cleanly() -> None:
    # given
    seed.remove_shared_skills(apps, None)
    assert not Skill.objects.filter(group=None).exists()

    # when
    seed.add_shared_skills(apps, None)
    seed.add_shared_skills(apps, None)

    # then
    assert sorted(Skill.objects.filter(group=None).values_list("name", flat=True)) == sorted(
        seed.SHARED_SKILLS
    )

    # when
    seed.remove_shared_skills(apps, None)

    # then
    assert not Skill.objects.filter(group=None).exists()
