"""What the volunteer index tests share: profile edits through the real service, and the index
as plain values to compare."""

from decimal import Decimal
from typing import Any

import numpy as np

from mutualaid.dispatch.volunteers import GroupVolunteers
from mutualaid.groups.models import Group
from mutualaid.people import services as people_services
from mutualaid.people.models import Skill, User


def edit_profile(member: User, **changes: Any) -> User:
    """Change some of a member's profile through member_profile_update, keeping the rest."""
    member = User.objects.get(pk=member.pk)
    current: dict[str, Any] = {
        "display_name": member.display_name,
        "languages": list(member.languages),
        "skills": list(member.skills.all()),
        "availability": member.availability,
        "home_area": member.home_area,
        "home_latitude": member.home_latitude,
        "home_longitude": member.home_longitude,
        "travel_km": member.travel_km,
        "notify_by_email": member.notify_by_email,
        "notify_digest": member.notify_digest,
        "max_open_tasks": member.max_open_tasks,
    }
    current.update(changes)
    return people_services.member_profile_update(member=member, **current)


def shared_skill(name: str) -> Skill:
    """A shared skill (seeded by a migration, but a flushed test database may lack it)."""
    skill, _created = Skill.objects.get_or_create(name=name, group=None)
    return skill


def skill_ids(volunteers: GroupVolunteers, bits: int) -> frozenset[int]:
    """The ids of the skills a bitmask of this index names."""
    return frozenset(pk for pk, bit in volunteers.skill_bits.items() if bits >> bit & 1)


def rows(volunteers: GroupVolunteers) -> dict[int, dict[str, Any]]:
    """Every volunteer of the index by id, each column as a plain value; skills as skill ids,
    so two indexes that numbered skills differently still compare equal."""
    columns = volunteers.index.columns()
    result = {}
    for slot in np.argsort(columns["ids"]):
        row = {name: values[slot].item() for name, values in columns.items()}
        row["skills"] = skill_ids(volunteers, row["skills"])
        result[row.pop("ids")] = row
    return result


HOME = {"home_latitude": Decimal("53.45"), "home_longitude": Decimal("-2.22")}


def rebuilt(group: Group) -> GroupVolunteers:
    """A fresh index of the group straight from the database, not cached."""
    volunteers = GroupVolunteers(group)
    volunteers.rebuild()
    return volunteers


def skill_bit(volunteers: GroupVolunteers, skill_id: int) -> int:
    """The bitmask of one skill in the group's numbering, 0 when it has none."""
    bit = volunteers.skill_bits.get(skill_id)
    return 0 if bit is None else 1 << bit
