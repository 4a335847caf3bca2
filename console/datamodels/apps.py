from django.apps import AppConfig


class DatamodelsConfig(AppConfig):
    name = "console.datamodels"
    label = "datamodels"
