from django.urls import path

from . import views

app_name = "bulk"

# Included at "bulk" without a slash: "" is /bulk, "/new" is /bulk/new.
urlpatterns = [
    path("", views.bulk_list, name="list"),
    path("/new", views.bulk_new, name="new"),
    path("/form", views.form_step, name="form"),
    path("/<uuid:sync_id>", views.bulk_edit, name="edit"),
    path("/<uuid:sync_id>/runs", views.run_history, name="runs"),
    path("/<uuid:sync_id>/runs/start", views.start_run, name="start"),
    path("/<uuid:sync_id>/runs/<uuid:execution_id>/cancel", views.cancel_run, name="cancel"),
    path("/<uuid:sync_id>/schedules", views.add_schedule, name="add-schedule"),
    path("/<uuid:sync_id>/schedules/<uuid:schedule_id>/delete", views.delete_schedule, name="delete-schedule"),
    path("/<uuid:sync_id>/schemas/<str:schema_id>", views.save_schema_settings, name="schema-settings"),
    path("/execution-logs/<str:token>/<str:filename>", views.log_file, name="log-file"),
]
