from django.apps import AppConfig


class SyncsConfig(AppConfig):
    name = "console.syncs"
    label = "syncs"
