import pytest
from django.db import IntegrityError, transaction

from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import Skill

pytestmark = pytest.mark.django_db


def test_a_groups_skill_names_are_unique_ignoring_case_in_the_database() -> None:
    group = make_group()
    Skill.objects.create(group=group, name="Bike repair")

    with pytest.raises(IntegrityError), transaction.atomic():
        Skill.objects.create(group=group, name="BIKE REPAIR")

    # another group may use the same name
    Skill.objects.create(group=make_group(), name="bike repair")
    assert Skill.objects.filter(name__iexact="bike repair").count() == 2


def test_shared_skill_names_are_unique_ignoring_case_in_the_database() -> None:
    Skill.objects.create(group=None, name="Knitting")

    with pytest.raises(IntegrityError), transaction.atomic():
        Skill.objects.create(group=None, name="knitting")
