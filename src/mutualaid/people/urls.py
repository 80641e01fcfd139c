from django.urls import path

from mutualaid.people import views

app_name = "people"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("profile/", views.profile, name="profile"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("export/", views.export, name="export"),
    path("data-access/", views.data_access_log, name="data_access_log"),
    path("delete/", views.delete, name="delete"),
]
