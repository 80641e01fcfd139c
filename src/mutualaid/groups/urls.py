from django.urls import path

from mutualaid.groups import views

app_name = "groups"

urlpatterns = [
    path("new/", views.group_create, name="create"),
    path("<slug:slug>/", views.group_detail, name="detail"),
    path("<slug:slug>/members/", views.group_members, name="members"),
    path("<slug:slug>/settings/", views.group_edit, name="edit"),
    path("<slug:slug>/skills/", views.group_skills, name="skills"),
    path("<slug:slug>/join/", views.group_join, name="join"),
    path("<slug:slug>/leave/", views.group_leave, name="leave"),
    path(
        "<slug:slug>/join-requests/<int:pk>/vouch/",
        views.join_request_vouch,
        name="join_request_vouch",
    ),
    path(
        "<slug:slug>/join-requests/<int:pk>/withdraw/",
        views.join_request_withdraw,
        name="join_request_withdraw",
    ),
    path("<slug:slug>/roles/propose/", views.role_grant_propose, name="role_propose"),
    path("<slug:slug>/roles/<int:pk>/confirm/", views.role_grant_confirm, name="role_confirm"),
    path(
        "<slug:slug>/roles/<int:pk>/step-down/",
        views.role_grant_step_down,
        name="role_step_down",
    ),
]
