from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "mutualaid.notify"
    label = "notify"
