from django.apps import AppConfig


class ProxyConfig(AppConfig):
    name = "console.proxy"
    label = "proxy"
