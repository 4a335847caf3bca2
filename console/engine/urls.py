from django.urls import path

from . import views

app_name = "engine"

urlpatterns = [
    path("syncs/<uuid:sync_id>/runs", views.runs, name="runs"),
    path("syncs/<uuid:sync_id>/runs/start", views.start_run, name="start"),
    path("syncs/<uuid:sync_id>/runs/<uuid:execution_id>", views.run, name="run"),
    path("syncs/<uuid:sync_id>/runs/<uuid:execution_id>/progress", views.run_progress, name="run-progress"),
    path("syncs/<uuid:sync_id>/runs/<uuid:execution_id>/errors", views.run_errors, name="run-errors"),
    path("syncs/<uuid:sync_id>/runs/<uuid:execution_id>/cancel", views.cancel_run, name="cancel"),
    path("syncs/<uuid:sync_id>/runs/<uuid:execution_id>/retry", views.retry_run, name="retry"),
    path("syncs/<uuid:sync_id>/notifications", views.sync_notifications, name="sync-notifications"),
    path("settings/notifications", views.notifications, name="notifications"),
    path("execution-logs/<str:token>/<str:filename>", views.log_file, name="log-file"),
]
