from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "console.engine"
    label = "engine"
