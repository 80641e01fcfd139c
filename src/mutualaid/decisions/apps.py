from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "mutualaid.decisions"
    label = "decisions"
