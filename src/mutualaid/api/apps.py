from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "mutualaid.api"
    label = "api"
