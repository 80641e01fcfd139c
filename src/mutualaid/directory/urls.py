from django.urls import path

from mutualaid.directory import views

app_name = "directory"

urlpatterns = [
    path("", views.home, name="home"),
    path("privacy/", views.privacy, name="privacy"),
]
