from django.urls import path

from . import connect_views

app_name = "connect"

# Included at "connect" without a slash: "" is /connect.
urlpatterns = [
    path("", connect_views.connect_page, name="page"),
    path("/authorize", connect_views.connect_authorize, name="authorize"),
    path("/status", connect_views.connect_status, name="status"),
    path("/done", connect_views.connect_done, name="done"),
]
