"""The funds pages, mounted under /groups/<slug>/funds/."""

from django.urls import path

from mutualaid.funds import views

app_name = "funds"

urlpatterns = [
    path("", views.fund_list, name="list"),
    path("new/", views.fund_create, name="create"),
    path("summary/", views.public_summary, name="public_summary"),
    path("<int:pk>/", views.fund_detail, name="detail"),
    path("<int:pk>/chart.svg", views.fund_chart, name="chart"),
    path("<int:pk>/books.csv", views.fund_export, name="export"),
    path("<int:pk>/contribute/", views.contribute, name="contribute"),
    path("<int:pk>/disburse/", views.disburse, name="disburse"),
    path(
        "disbursements/<int:pk>/confirm/",
        views.disbursement_confirm,
        name="disbursement_confirm",
    ),
    path("disbursements/<int:pk>/pay/", views.disbursement_pay, name="disbursement_pay"),
    path("disbursements/<int:pk>/cancel/", views.disbursement_cancel, name="disbursement_cancel"),
    path("transactions/<int:pk>/reverse/", views.transaction_reverse, name="reverse"),
    path("reimbursements/", views.reimbursements, name="reimbursements"),
    path("reimbursements/<int:pk>/pay/", views.reimbursement_pay, name="reimbursement_pay"),
    path(
        "reimbursements/<int:pk>/reject/",
        views.reimbursement_reject,
        name="reimbursement_reject",
    ),
    path(
        "reimbursements/<int:pk>/receipt/upload/",
        views.receipt_upload,
        name="receipt_upload",
    ),
    path("reimbursements/<int:pk>/receipt/", views.receipt, name="receipt"),
]
