from django.urls import path

from mutualaid.needs.views import intake, offers, reports, requests

app_name = "needs"

urlpatterns = [
    # Public: anyone can ask a group for help, and follow their request by its secret link.
    path("groups/<slug:slug>/ask/", intake.ask, name="ask"),
    path("help/<str:reference>/<str:secret>/", intake.status, name="status"),
    path("help/<str:reference>/<str:secret>/cancel/", intake.status_cancel, name="status_cancel"),
    path(
        "help/<str:reference>/<str:secret>/messages/",
        intake.status_message,
        name="status_message",
    ),
    # Dispatchers take a caller's request in one screen.
    path("groups/<slug:slug>/phone-desk/", intake.phone_desk, name="phone_desk"),
    # Members: open requests near them, and what they hold.
    path("groups/<slug:slug>/requests/", requests.request_list, name="request_list"),
    path("groups/<slug:slug>/requests/follow-up/", requests.follow_up, name="follow_up"),
    path("groups/<slug:slug>/requests/report/", reports.report, name="report"),
    path("groups/<slug:slug>/categories/", requests.categories, name="categories"),
    path("requests/mine/", requests.my_requests, name="my_requests"),
    path("requests/<int:pk>/", requests.request_detail, name="request_detail"),
    path("requests/<int:pk>/claim/", requests.request_claim, name="request_claim"),
    path("requests/<int:pk>/release/", requests.request_release, name="request_release"),
    path("requests/<int:pk>/complete/", requests.request_complete, name="request_complete"),
    path("requests/<int:pk>/assign/", requests.request_assign, name="request_assign"),
    path("requests/<int:pk>/cancel/", requests.request_cancel, name="request_cancel"),
    path("requests/<int:pk>/reopen/", requests.request_reopen, name="request_reopen"),
    path("requests/<int:pk>/link-offer/", requests.request_link_offer, name="request_link_offer"),
    path("requests/<int:pk>/messages/", requests.message_post, name="message_post"),
    path(
        "requests/<int:pk>/standing/commit/",
        requests.standing_need_commit,
        name="standing_need_commit",
    ),
    path(
        "requests/<int:pk>/standing/release/",
        requests.standing_need_release,
        name="standing_need_release",
    ),
    path("assignments/<int:pk>/accept/", requests.assignment_accept, name="assignment_accept"),
    path("assignments/<int:pk>/decline/", requests.assignment_decline, name="assignment_decline"),
    # Offers of time, skills and goods.
    path("groups/<slug:slug>/offers/", offers.offer_list, name="offer_list"),
    path("groups/<slug:slug>/offers/new/", offers.offer_create, name="offer_create"),
    path("offers/<int:pk>/withdraw/", offers.offer_withdraw, name="offer_withdraw"),
]
