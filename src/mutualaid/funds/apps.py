from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "mutualaid.funds"
    label = "funds"
