from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "mutualaid.groups"
    label = "groups"
