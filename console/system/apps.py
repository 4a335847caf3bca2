from django.apps import AppConfig


class SystemConfig(AppConfig):
    name = "console.system"
    label = "system"
