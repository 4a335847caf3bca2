from django.urls import path

from . import views

app_name = "schemas"

# Included at "connections/<uuid:connection_id>/schemas".
urlpatterns = [
    path("", views.schema_list, name="list"),
    path("/status", views.refresh_status, name="status"),
    path("/refresh", views.refresh, name="refresh"),
    path("/<str:schema_id>", views.schema_detail, name="detail"),
    path("/<str:schema_id>/records", views.schema_records, name="records"),
    path("/<str:schema_id>/primary-keys", views.primary_keys, name="primary-keys"),
    path("/<str:schema_id>/fields", views.add_field, name="add-field"),
    path("/<str:schema_id>/fields/<str:field_id>/delete", views.delete_field, name="delete-field"),
]
