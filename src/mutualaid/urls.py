from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("api/", include("mutualaid.api.urls")),
    path("me/", include("mutualaid.people.urls")),
    path("groups/", include("mutualaid.groups.urls")),
    path("", include("mutualaid.directory.urls")),
]
