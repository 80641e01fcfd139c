"""The site's pages plus one whose service always refuses, to test how refusals are shown."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from mutualaid.common.errors import ApplicationError
from mutualaid.urls import urlpatterns as site_urlpatterns


def refuse(request: HttpRequest) -> HttpResponse:
    raise ApplicationError("That cannot be done now.", status=409)


urlpatterns = [path("refuse/", refuse), *site_urlpatterns]
