"""A service's refusal that a view leaves unhandled reaches the person as a message, never a 500."""

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("mutualaid.common.tests.urls_refusing")]


def test_a_refused_post_goes_back_to_its_page_with_the_message(client: Client) -> None:
    # when
    response = client.post("/refuse/", HTTP_REFERER="http://testserver/privacy/", follow=True)

    # then
    assert response.redirect_chain == [("http://testserver/privacy/", 302)]
    assert [str(m) for m in response.context["messages"]] == ["That cannot be done now."]


def test_a_refused_post_from_another_site_gets_an_error_page(client: Client) -> None:
    # when
    response = client.post("/refuse/", HTTP_REFERER="https://elsewhere.example/")

    # then
    assert response.status_code == 409
    assert response.context["message"] == "That cannot be done now."


def test_a_refused_get_gets_an_error_page_with_the_refusals_status(client: Client) -> None:
    # when
    response = client.get("/refuse/")

    # then
    assert response.status_code == 409
    assert "That cannot be done now." in response.content.decode()
    assert response.templates[0].name == "error.html"
