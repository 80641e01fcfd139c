"""How a client writes a token and a request, and how the API writes values, for exact
assertions."""

from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.test import Client

from mutualaid.groups.models import Group
from mutualaid.people.models import User
from mutualaid.people.services import api_token_create


def bearer(raw_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_token}"}


def token_for(user: User) -> dict[str, str]:
    """The Authorization header of a new personal token of `user`."""
    _token, raw = api_token_create(user=user, name="phone app")
    return bearer(raw)


def post_json(client: Client, path: str, body: Any = None, **headers: str) -> HttpResponse:
    """POST a dict as JSON, a str or bytes body as it is, or no body at all for None."""
    if body is None:
        return client.generic("POST", path, headers=headers)
    return client.post(path, body, content_type="application/json", headers=headers)


def as_json_time(value: datetime) -> str:
    return DjangoJSONEncoder().default(value)


def post_join(
    client: Client, group: Group, body: Any = None, *, headers: dict[str, str] | None = None
) -> HttpResponse:
    """POST to the group's join operation. A dict or list body is sent as JSON, a str or bytes
    body as it is (JSON or not), and None sends no body at all."""
    path = f"/api/groups/{group.slug}/join"
    if body is None:
        return client.generic("POST", path, headers=headers or {})
    return client.post(path, body, content_type="application/json", headers=headers or {})


# (method, suffix after /api/groups/{slug}) of every operation on one group, and of those that
# need a member's token.
GROUP_OPERATIONS = [("get", ""), ("post", "/join"), ("get", "/members"), ("get", "/roles")]
MEMBER_OPERATIONS = GROUP_OPERATIONS[1:]

NEEDS_TOKEN = 'This needs an API token, sent as "Authorization: Bearer <token>".'
BAD_TOKEN = "This API token is not valid or has been revoked."
BAD_HEADER = 'The Authorization header must read "Bearer" and your token.'

# Every operation and the statuses it can answer: its own, 401 for a bad token (even where a
# token is optional), 422 where it takes parameters, 400 and 413 where it reads a body.
API_OPERATIONS = {
    ("/api/me", "get"): {"200", "401"},
    ("/api/groups", "get"): {"200", "401", "422"},
    ("/api/groups/{slug}", "get"): {"200", "401", "404"},
    ("/api/groups/{slug}/join", "post"): {"200", "201", "202", "400", "401", "404", "413", "422"},
    ("/api/groups/{slug}/members", "get"): {"200", "401", "403", "404", "422"},
    ("/api/groups/{slug}/roles", "get"): {"200", "401", "403", "404"},
    ("/api/groups/{slug}/requests", "post"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "413",
        "422",
        "429",
    },
    ("/api/groups/{slug}/requests", "get"): {"200", "401", "403", "404", "422"},
    ("/api/requests/{id}", "get"): {"200", "401", "403", "404"},
    ("/api/requests/{id}/claim", "post"): {"200", "400", "401", "403", "404", "409"},
    ("/api/requests/{id}/release", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "422",
    },
    ("/api/requests/{id}/complete", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "422",
    },
    ("/api/requests/status/{reference}", "get"): {"200", "401", "404", "422"},
    ("/api/requests/status/{reference}/messages", "post"): {
        "201",
        "400",
        "401",
        "404",
        "413",
        "422",
    },
    ("/api/requests/status/{reference}/cancel", "post"): {"200", "400", "401", "404", "409", "422"},
    ("/api/groups/{slug}/offers", "get"): {"200", "401", "403", "404", "422"},
    ("/api/groups/{slug}/offers", "post"): {"201", "400", "401", "403", "404", "413", "422"},
    ("/api/requests/{id}/suggestions", "get"): {"200", "401", "403", "404", "409"},
    ("/api/groups/{slug}/match-all", "post"): {"200", "401", "403", "404"},
    ("/api/me/duty", "post"): {"200", "400", "401", "413", "422"},
    ("/api/me/duty", "delete"): {"200", "401"},
    ("/api/groups/{slug}/supply-and-demand", "get"): {"200", "401", "403", "404"},
    ("/api/groups/{slug}/proposals", "get"): {"200", "401", "403", "404", "422"},
    ("/api/groups/{slug}/proposals", "post"): {"201", "400", "401", "403", "404", "413", "422"},
    ("/api/proposals/{id}", "get"): {"200", "401", "403", "404"},
    ("/api/proposals/{id}/stance", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "422",
    },
    ("/api/proposals/{id}/comments", "post"): {"201", "400", "401", "403", "404", "413", "422"},
    ("/api/proposals/{id}/withdraw", "post"): {"200", "400", "401", "403", "404", "409"},
    ("/api/groups/{slug}/funds", "get"): {"200", "401", "403", "404"},
    ("/api/funds/{id}", "get"): {"200", "401", "403", "404"},
    ("/api/funds/{id}/transactions", "get"): {"200", "401", "403", "404", "422"},
    ("/api/funds/{id}/contributions", "post"): {"201", "400", "401", "403", "404", "413", "422"},
    ("/api/funds/{id}/disbursements", "post"): {"201", "400", "401", "403", "404", "413", "422"},
    ("/api/disbursements/{id}/confirm", "post"): {"200", "400", "401", "403", "404", "409"},
    ("/api/transactions/{id}/reverse", "post"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "422",
    },
}
