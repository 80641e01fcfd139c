"""Who is calling the API: a member with a personal token, or, where allowed, anyone.

The API reads only the `Authorization: Bearer <token>` header, never the session cookie, so
no endpoint can be driven by a browser that merely happens to be logged in (no CSRF exposure).
"""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from mutualaid.people.models import User
from mutualaid.people.services import api_token_authenticate


class InvalidToken(AuthenticationError):
    """A token was sent but cannot be used: malformed, unknown, revoked or of an inactive member."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=401, message=message)


class ApiToken(HttpBearer):
    """A personal API token in the Authorization header.

    With no header at all this returns None, so the operation answers 401 unless anonymous
    callers are allowed too. A header that is present but wrong is always a 401, never a silent
    fall-back to anonymous.
    """

    def __call__(self, request: HttpRequest) -> User | None:
        header = request.headers.get(self.header)
        if header is None:
            return None
        scheme, _sep, raw_token = header.strip().partition(" ")
        raw_token = raw_token.strip()
        if scheme.lower() != "bearer" or not raw_token or " " in raw_token:
            raise InvalidToken(_('The Authorization header must read "Bearer" and your token.'))
        return self.authenticate(request, raw_token)

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = api_token_authenticate(raw_token=token)
        if user is None:
            raise InvalidToken(_("This API token is not valid or has been revoked."))
        # Code that reads request.user sees the token's member, not a session's.
        request.user = user
        return user


def anyone(request: HttpRequest) -> AnonymousUser:
    """Lets a caller in as an anonymous visitor. Listed after the token, so it is asked only
    when there is no Authorization header: a header that is there but wrong is already a 401."""
    return AnonymousUser()


token_required = ApiToken()

# The options of an operation open to anyone (`@router.get(..., **TOKEN_OPTIONAL)`): a token is
# optional, but a bad one is still refused. In the OpenAPI document, the empty requirement
# marks the token as optional.
TOKEN_OPTIONAL: dict[str, Any] = {
    "auth": [token_required, anyone],
    "openapi_extra": {"security": [{}]},
}
