from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "mutualaid.dispatch"
    label = "dispatch"
