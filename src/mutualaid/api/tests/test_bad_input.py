"""Hostile input to the API is a 4xx with a JSON `detail`, never a 500 and never a half-made
record; and the OpenAPI document lists every status an operation can answer."""

from typing import Any

import pytest
from django.test import Client, override_settings

from mutualaid.api.pagination import MAX_OFFSET
from mutualaid.api.tests.wire import (
    API_OPERATIONS,
    BAD_HEADER,
    BAD_TOKEN,
    GROUP_OPERATIONS,
    post_join,
)
from mutualaid.groups.models import JoinRequest, Membership
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import User


def test_openapi_document_lists_every_status_each_operation_answers(
    client: Client, db: None
) -> None:
    # when
    paths = client.get("/api/openapi.json").json()["paths"]
    # then
    assert {
        (path, method): set(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    } == API_OPERATIONS


def test_openapi_document_describes_the_error_bodies(client: Client, db: None) -> None:
    # when
    document = client.get("/api/openapi.json").json()
    # then
    join = document["paths"]["/api/groups/{slug}/join"]["post"]["responses"]
    assert join["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    assert join["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationErrorOut"
    }
    schemas = document["components"]["schemas"]
    assert schemas["ErrorOut"]["required"] == ["detail"]
    assert schemas["ValidationProblem"]["required"] == ["loc", "msg", "type"]


# Offsets past a 64-bit integer were a database error (500) on SQLite and PostgreSQL.


@pytest.mark.parametrize("offset", [MAX_OFFSET + 1, 2**63, 10**30])
def test_group_list_refuses_an_offset_past_the_limit_with_422(
    client: Client, db: None, offset: int
) -> None:
    # when
    response = client.get("/api/groups", {"offset": offset})
    # then
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "less_than_equal",
                "loc": ["query", "offset"],
                "msg": "Input should be less than or equal to 1000000000",
                "ctx": {"le": MAX_OFFSET},
            }
        ]
    }


def test_group_list_at_the_largest_offset_is_an_empty_page(client: Client, db: None) -> None:
    # given
    make_group()
    # when
    response = client.get("/api/groups", {"offset": MAX_OFFSET, "limit": 10**30})
    # then
    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 1}


def test_members_list_refuses_a_huge_offset_with_422(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    group = make_group(creator=member)
    # when
    response = client.get(
        f"/api/groups/{group.slug}/members", {"offset": 2**64, "limit": 17306166096}, headers=auth
    )
    # then
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", "offset"]]


# NUL characters were a 500 on PostgreSQL, which refuses them even in a search.


def test_group_list_refuses_a_nul_character_in_the_search_with_422(
    client: Client, db: None
) -> None:
    # given
    make_group(name="Ardwick Mutual Aid")
    # when
    response = client.get("/api/groups", {"q": "Ard\x00wick"})
    # then
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", "q"]]


@pytest.mark.parametrize(("method", "suffix"), GROUP_OPERATIONS)
@pytest.mark.parametrize("slug", ["ard%00wick", "ard wick", "ardwick%F0%9F%98%80", "%ED%A0%80"])
def test_a_slug_that_cannot_be_a_slug_is_a_json_404(
    client: Client, auth: dict[str, str], method: str, suffix: str, slug: str
) -> None:
    # given
    make_group(slug="ardwick")
    # when
    response = getattr(client, method)(f"/api/groups/{slug}{suffix}", headers=auth)
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    "body",
    [
        '{"message": ',
        "not json",
        '["message"]',
        '"hi"',
        "null",
        b"\xff\xfe{}",
        b"\x00",
        b"{" * 10_000,
    ],
)
def test_join_with_a_body_that_is_not_a_json_object_is_400_and_joins_nothing(
    client: Client, member: User, auth: dict[str, str], body: str | bytes
) -> None:
    # given
    group = make_group()
    # when
    response = post_join(client, group, body, headers=auth)
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body"}
    assert not Membership.objects.filter(group=group, member=member).exists()


# NUL characters and lone surrogates were a 500 on PostgreSQL, which cannot store them.
@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"message": "x" * 1001}, "string_too_long"),
        ({"message": 12}, "string_type"),
        ({"message": None}, "string_type"),
        (b'{"message": 1e999}', "string_type"),
        ('{"message": "I live on\\u0000 Stockport Road."}', "string_pattern_mismatch"),
        ('{"message": "\\ud800"}', "string_unicode"),
        ('{"message": "\\udc00 and more"}', "string_unicode"),
        (b'{"message": "\xed\xa0\x80"}', "string_unicode"),
    ],
)
@pytest.mark.parametrize("join_needs_vouch", [False, True], ids=["open", "vouched"])
def test_join_with_a_message_no_database_can_store_is_422_and_joins_or_asks_nothing(
    client: Client,
    member: User,
    auth: dict[str, str],
    body: Any,
    problem: str,
    join_needs_vouch: bool,
) -> None:
    # given
    group = make_group(join_needs_vouch=join_needs_vouch)
    # when
    response = post_join(client, group, body, headers=auth)
    # then
    assert response.status_code == 422
    assert [(error["loc"], error["type"]) for error in response.json()["detail"]] == [
        (["body", "payload", "message"], problem)
    ]
    assert not JoinRequest.objects.filter(group=group, applicant=member).exists()
    assert not Membership.objects.filter(group=group, member=member).exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_join_with_a_body_past_the_upload_limit_is_a_json_413_and_joins_nothing(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    group = make_group(join_needs_vouch=True)
    # when: Django's own answer was its HTML 400 page
    response = post_join(client, group, {"message": "x" * 1000}, headers=auth)
    # then
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}
    assert not JoinRequest.objects.filter(group=group, applicant=member).exists()


@pytest.mark.parametrize(
    "path", ["/api/me", "/api/groups", "/api/groups/{slug}", "/api/groups/{slug}/members"]
)
def test_a_method_an_operation_does_not_take_is_a_json_405(
    client: Client, auth: dict[str, str], path: str
) -> None:
    # given
    group = make_group()
    # when
    response = client.delete(path.format(slug=group.slug), headers=auth)
    # then
    assert response.status_code == 405
    assert response.json() == {"detail": "This address does not take this method."}


# Django's CSRF check answered these with its HTML 403 page, and a POST of the OpenAPI
# document was served as if it were a GET.
@pytest.mark.parametrize("path", ["/api/", "/api/openapi.json", "/api/docs"])
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_a_write_to_a_read_only_address_is_a_json_405_even_without_csrf(
    db: None, path: str, method: str
) -> None:
    # given: a client that enforces CSRF like a browser would
    client = Client(enforce_csrf_checks=True)
    # when
    response = getattr(client, method)(path)
    # then
    assert response.status_code == 405
    assert response.json() == {"detail": "This address does not take this method."}
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer ma_\x00", BAD_TOKEN),
        ("Bearer " + "ma_" + "x" * 10_000, BAD_TOKEN),
        ("Bearer \u00e9\u00e9", BAD_TOKEN),
        ("Basic Zm9vOmJhcg==", BAD_HEADER),
    ],
)
def test_a_token_no_member_has_is_a_json_401(
    client: Client, db: None, header: str, detail: str
) -> None:
    # when
    response = client.get("/api/me", headers={"Authorization": header})
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": detail}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_error_bodies_have_a_json_detail_for_every_4xx(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    outsider_group = make_group()
    # when
    answers: dict[int, Any] = {
        400: post_join(client, outsider_group, "{", headers=auth),
        401: client.get("/api/me"),
        403: client.get(f"/api/groups/{outsider_group.slug}/members", headers=auth),
        404: client.get("/api/groups/nowhere", headers=auth),
        405: client.put("/api/me", headers=auth),
        413: post_join(client, outsider_group, {"message": "x" * 1000}, headers=auth),
        422: client.get("/api/groups", {"limit": -1}),
    }
    # then
    for status, response in answers.items():
        assert response.status_code == status
        assert response["Content-Type"].split(";")[0] == "application/json"
        assert "detail" in response.json()
