from django.urls import include, path

from mutualaid.people import account_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # Before allauth's own route of the same name, so the page is audited.
    path("accounts/email/", account_views.email, name="account_email"),
    path("accounts/", include("allauth.urls")),
    path("api/", include("mutualaid.api.urls")),
    path("me/", include("mutualaid.people.urls")),
    path("groups/<slug:slug>/decisions/", include("mutualaid.decisions.urls")),
    path("groups/<slug:slug>/funds/", include("mutualaid.funds.urls")),
    path("groups/", include("mutualaid.groups.urls")),
    path("dispatch/", include("mutualaid.dispatch.urls")),
    path("", include("mutualaid.needs.urls")),
    path("", include("mutualaid.directory.urls")),
]
