from django.urls import path

from . import views

app_name = "access"

urlpatterns = [
    path("settings/roles", views.create_role, name="role-create"),
    path("settings/roles/<uuid:role_id>/edit", views.update_role, name="role-edit"),
    path("settings/roles/<uuid:role_id>/delete", views.delete_role, name="role-delete"),
]
for kind, prefix in (("connection", "connections"), ("model", "models"), ("sync", "syncs")):
    urlpatterns += [
        path(f"{prefix}/<uuid:object_id>/grants", views.grant, {"kind": kind}, name=f"{kind}-grant"),
        path(f"{prefix}/<uuid:object_id>/grants/<uuid:policy_id>/revoke", views.revoke, {"kind": kind},
             name=f"{kind}-revoke"),
    ]
