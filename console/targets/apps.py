from django.apps import AppConfig


class TargetsConfig(AppConfig):
    name = "console.targets"
    label = "targets"
