import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.test import Client

from mutualaid.api.tests.wire import API_OPERATIONS, post_join
from mutualaid.common.errors import ApplicationError
from mutualaid.groups import services
from mutualaid.groups.tests.factories import make_group


def test_openapi_document_lists_every_operation(client: Client, db: None) -> None:
    # when
    response = client.get("/api/openapi.json")
    # then
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Mutual Aid API"
    assert document["info"]["version"] == "1"
    assert {
        (path, method) for path, operations in document["paths"].items() for method in operations
    } == set(API_OPERATIONS)
    assert document["components"]["securitySchemes"] == {
        "ApiToken": {"type": "http", "scheme": "bearer"}
    }


def test_openapi_document_marks_which_operations_need_a_token(client: Client, db: None) -> None:
    # when
    paths = client.get("/api/openapi.json").json()["paths"]
    # then
    assert paths["/api/groups"]["get"]["security"] == [{"ApiToken": []}, {}]
    assert paths["/api/groups/{slug}"]["get"]["security"] == [{"ApiToken": []}, {}]
    assert paths["/api/me"]["get"]["security"] == [{"ApiToken": []}]
    assert paths["/api/groups/{slug}/join"]["post"]["security"] == [{"ApiToken": []}]
    assert paths["/api/groups/{slug}/members"]["get"]["security"] == [{"ApiToken": []}]
    assert paths["/api/groups/{slug}/roles"]["get"]["security"] == [{"ApiToken": []}]


def test_docs_page_loads_nothing_from_another_site(client: Client, db: None) -> None:
    # when
    response = client.get("/api/docs")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    assert assets, "the page links its stylesheet and scripts"
    assert [url for url in assets if re.match(r"(?:[a-z]+:)?//", url, re.IGNORECASE)] == []
    assert "http://" not in html
    assert "https://" not in html
    assert "/static/ninja/swagger-ui-bundle.js" in assets
    assert "/static/ninja/swagger-ui.css" in assets


def test_docs_page_points_swagger_at_our_document_without_the_online_validator(
    client: Client, db: None
) -> None:
    # when
    html = client.get("/api/docs").content.decode()
    # then
    match = re.search(
        r'<script type="application/json" id="swagger-settings">(.*?)</script>', html, re.S
    )
    assert match is not None
    swagger_settings = json.loads(match.group(1))
    assert swagger_settings["url"] == "/api/openapi.json"
    assert swagger_settings["validatorUrl"] is None


def test_docs_page_says_where_the_document_is_without_javascript(client: Client, db: None) -> None:
    # when
    html = client.get("/api/docs").content.decode()
    # then
    assert '<html lang="en">' in html
    assert (
        'The same description is in the <a href="/api/openapi.json">OpenAPI document</a>.' in html
    )


@pytest.mark.parametrize(
    "path", ["ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"]
)
def test_swagger_files_are_served_from_this_site(path: str) -> None:
    assert finders.find(path) is not None


def test_unknown_api_address_is_json_404(client: Client, db: None) -> None:
    # when
    response = client.get("/api/no/such/thing")
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (ApplicationError("The group is full.", status=409), 409, "The group is full."),
        (ApplicationError("Not now."), 400, "Not now."),
        (PermissionDenied("Members only."), 403, "Members only."),
        (PermissionDenied(), 403, "You are not allowed to do this."),
        (ObjectDoesNotExist(), 404, "Not found."),
    ],
)
def test_service_refusals_become_json_with_a_detail(
    client: Client,
    auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: int,
    detail: str,
) -> None:
    # given
    group = make_group()

    def refuse(**kwargs: object) -> None:
        raise error

    monkeypatch.setattr(services, "group_join", refuse)
    # when
    response = post_join(client, group, headers=auth)
    # then
    assert response.status_code == status
    assert response.json() == {"detail": detail}


def test_api_root_says_where_the_document_and_the_docs_are(client: Client, db: None) -> None:
    # when
    response = client.get("/api/")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "title": "Mutual Aid API",
        "version": "1",
        "openapi": "/api/openapi.json",
        "docs": "/api/docs",
    }


def test_post_to_an_unknown_api_address_is_json_404_even_without_csrf(db: None) -> None:
    # given
    client = Client(enforce_csrf_checks=True)
    # when
    response = client.post("/api/groups/some-group/join/", {}, content_type="application/json")
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
