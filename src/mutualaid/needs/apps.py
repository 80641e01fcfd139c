from django.apps import AppConfig


class NeedsConfig(AppConfig):
    name = "mutualaid.needs"
    label = "needs"
