from django.urls import path

from . import request_views, views

app_name = "syncs"

# Included at "syncs" without a slash: "" is /syncs, "/new" is /syncs/new.
urlpatterns = [
    path("", views.sync_list, name="list"),
    path("/new", views.sync_new, name="new"),
    path("/builder", views.builder_step, name="builder"),
    path("/<uuid:sync_id>", views.sync_detail, name="detail"),
    path("/<uuid:sync_id>/edit", views.sync_edit, name="edit"),
    path("/<uuid:sync_id>/activate", views.sync_activate, name="activate"),
    path("/<uuid:sync_id>/delete", views.sync_delete, name="delete"),
    path("/<uuid:sync_id>/requests", request_views.sync_requests, name="requests"),
    path("/<uuid:sync_id>/test_send", request_views.sync_test_send, name="test_send"),
]
