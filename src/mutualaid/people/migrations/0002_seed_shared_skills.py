"""Seed the skills every group offers (skills with no group). Data only; reversible."""

from django.db import migrations

SHARED_SKILLS = [
    "Shopping",
    "Driving",
    "Cooking",
    "Dog walking",
    "Befriending and phone chats",
    "Translation",
    "DIY repairs",
    "Gardening",
    "Childcare",
    "First aid",
    "IT help",
    "Paperwork help",
    "Heavy lifting",
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
