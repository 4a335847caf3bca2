from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "console.bulk"
    label = "bulk"
