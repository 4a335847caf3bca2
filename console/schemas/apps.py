from django.apps import AppConfig


class SchemasConfig(AppConfig):
    name = "console.schemas"
    label = "schemas"
