"""Seed the skills every group offers (skills with no group). Data only; reversible."""

from django.db import migrations
from django.utils.translation import gettext_noop

# Stored in English; pages show the shared skills in the reader's language.
SHARED_SKILLS = [
    gettext_noop("Shopping"),
    gettext_noop("Driving"),
    gettext_noop("Cooking"),
    gettext_noop("Dog walking"),
    gettext_noop("Befriending and phone chats"),
    gettext_noop("Translation"),
    gettext_noop("DIY repairs"),
    gettext_noop("Gardening"),
    gettext_noop("Childcare"),
    gettext_noop("First aid"),
    gettext_noop("IT help"),
    gettext_noop("Paperwork help"),
    gettext_noop("Heavy lifting"),
]


def add_shared_skills(apps, schema_editor):
    Skill = apps.get_model("people", "Skill")
    for name in SHARED_SKILLS:
        Skill.objects.get_or_create(name=name, group=None)


def remove_shared_skills(apps, schema_editor):
    Skill = apps.get_model("people", "Skill")
    Skill.objects.filter(name__in=SHARED_SKILLS, group=None).delete()


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [migrations.RunPython(add_shared_skills, remove_shared_skills)]
