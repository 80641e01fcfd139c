from typing import Any

from django.test import Client

from mutualaid.common.models import AuditEvent
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import Skill, User


def test_me_shows_the_profile_members_see_and_the_groups(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    User.objects.filter(pk=member.pk).update(
        languages=["en", "so"],
        home_area="Levenshulme",
        travel_km=5,
        phone="+44 161 496 0000",
        address="1 Secret Street",
    )
    member.skills.set([Skill.objects.create(name="Tarot"), Skill.objects.create(name="Beekeeping")])
    make_group(creator=member, slug="levenshulme")
    make_group(creator=member, slug="burnage")
    make_group(slug="not-mine")
    # when
    response = client.get("/api/me", headers=auth)
    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": member.pk,
        "display_name": "Rosa",
        "languages": ["en", "so"],
        "skills": ["Beekeeping", "Tarot"],
        "home_area": "Levenshulme",
        "travel_km": 5,
        "groups": ["burnage", "levenshulme"],
    }


def test_me_shows_no_personal_data_and_so_records_no_access(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # when
    body = client.get("/api/me", headers=auth).json()
    # then
    assert {"email", "phone", "address", "home_latitude", "home_longitude"}.isdisjoint(body)
    assert member.email not in str(body)
    assert AuditEvent.objects.count() == 0


def test_me_query_count_does_not_grow_with_skills_and_groups(
    client: Client, member: User, auth: dict[str, str], django_assert_num_queries: Any
) -> None:
    # given
    member.skills.set([Skill.objects.create(name=f"Test skill {n}") for n in range(5)])
    for _ in range(3):
        make_group(creator=member)
    client.get("/api/me", headers=auth)  # the first use also stamps the token
    # when / then: token and member, skills, groups
    with django_assert_num_queries(3):
        response = client.get("/api/me", headers=auth)
    assert len(response.json()["groups"]) == 3
