"""The calling member in the JSON API.

Only what the member's groups may see anyway: no email, phone or exact address, so reading
it is not an access to personal data that needs an audit row.
"""

from django.http import HttpRequest
from ninja import Field, Router, Schema

from mutualaid.api.errors import ErrorOut
from mutualaid.groups.models import Membership
from mutualaid.people.models import User

router = Router(tags=["people"])


class MeOut(Schema):
    id: int
    display_name: str
    languages: list[str] = Field(description="ISO 639-1 codes of the languages you speak.")
    skills: list[str]
    home_area: str
    travel_km: int
    groups: list[str] = Field(description="The slugs of the groups you belong to.")


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="Show your profile")
def get_me(request: HttpRequest) -> dict:
    """The member the token belongs to: the profile other members see, and their groups."""
    member: User = request.auth  # type: ignore[attr-defined]
    return {
        "id": member.pk,
        "display_name": member.display_name,
        "languages": member.languages,
        "skills": list(member.skills.order_by("name").values_list("name", flat=True)),
        "home_area": member.home_area,
        "travel_km": member.travel_km,
        "groups": list(
            Membership.objects.filter(member=member)
            .order_by("group__slug")
            .values_list("group__slug", flat=True)
        ),
    }
