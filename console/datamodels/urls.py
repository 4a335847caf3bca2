from django.urls import path

from . import views

app_name = "datamodels"

# Included at "models" without a slash: "" is /models, "/new" is /models/new.
urlpatterns = [
    path("", views.model_list, name="list"),
    path("/new", views.model_new, name="new"),
    path("/preview", views.model_preview, name="preview"),
    path("/tables", views.model_tables, name="tables"),
    path("/<uuid:model_id>", views.model_detail, name="detail"),
    path("/<uuid:model_id>/edit", views.model_edit, name="edit"),
    path("/<uuid:model_id>/refresh", views.model_refresh, name="refresh"),
    path("/<uuid:model_id>/delete", views.model_delete, name="delete"),
]
