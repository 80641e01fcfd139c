"""Who may do what with members' own things. The only place that access is decided."""

from typing import Any

from mutualaid.people.models import ApiToken


def can_manage_token(user: Any, token: ApiToken) -> bool:
    """A token is seen and revoked only by the member it belongs to."""
    return bool(getattr(user, "is_authenticated", False)) and token.user_id == user.pk
