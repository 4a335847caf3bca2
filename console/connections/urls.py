from django.urls import path

from . import views

app_name = "connections"

# Included at "connections" without a slash: "" is /connections, "/new" is /connections/new.
urlpatterns = [
    path("", views.connection_list, name="list"),
    path("/new", views.connection_new, name="new"),
    path("/new/<str:type_id>", views.connection_create, name="create"),
    path("/oauth/callback", views.oauth_callback, name="oauth-callback"),
    path("/<uuid:connection_id>", views.connection_detail, name="detail"),
    path("/<uuid:connection_id>/status", views.connection_status, name="status"),
    path("/<uuid:connection_id>/test", views.connection_test, name="test"),
    path("/<uuid:connection_id>/edit", views.connection_edit, name="edit"),
    path("/<uuid:connection_id>/delete", views.connection_delete, name="delete"),
    path("/<uuid:connection_id>/authorize", views.connection_authorize, name="authorize"),
    path("/<uuid:connection_id>/parameters", views.connection_parameters, name="parameters"),
]
