"""Mounted at groups/<slug>/decisions/, so every view receives the group's slug."""

from django.urls import path

from mutualaid.decisions import views

app_name = "decisions"

urlpatterns = [
    path("", views.proposal_list, name="list"),
    path("new/", views.proposal_create, name="create"),
    path("how/", views.decisions_help, name="help"),
    path("<int:pk>/", views.proposal_detail, name="detail"),
    path("<int:pk>/stance/", views.stance_take, name="stance"),
    path("<int:pk>/comments/", views.comment_add, name="comment"),
    path("<int:pk>/edit/", views.proposal_edit, name="edit"),
    path("<int:pk>/withdraw/", views.proposal_withdraw, name="withdraw"),
]
