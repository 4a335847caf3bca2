from django.urls import path

from . import views

app_name = "proxy"

# Included at "connections/<uuid:connection_id>/proxy".
urlpatterns = [
    path("", views.proxy_card, name="card"),
    path("/switch", views.proxy_switch, name="switch"),
]
