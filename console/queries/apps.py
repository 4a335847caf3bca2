from django.apps import AppConfig


class QueriesConfig(AppConfig):
    name = "console.queries"
    label = "queries"
