from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "console.connections"
    label = "connections"

    def ready(self):
        from console import egress

        egress.install()
