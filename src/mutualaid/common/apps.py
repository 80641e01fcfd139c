from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "mutualaid.common"
    label = "common"
    verbose_name = "Common"
