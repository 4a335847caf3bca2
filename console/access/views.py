"""Settings' custom roles and the grants section of connection, model and sync pages."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from console.accounts.decorators import admin_required, organization_required
from console.api.errors import ApiError
from console.connections.models import Connection
from console.datamodels.models import DataModel
from console.syncs.models import Sync

from . import services
from .models import PermissionRole

# kind -> (model class, detail page's URL name)
GRANTABLE = {"connection": (Connection, "connections:detail"), "model": (DataModel, "datamodels:detail"),
             "sync": (Sync, "syncs:detail")}


@require_POST
@admin_required
def create_role(request):
    try:
        role = services.create_role(request.organization, request.POST.get("name", ""),
                                    request.POST.getlist("permissions"))
        request.audit_object = role
        messages.success(request, f"Created the role {role.name}.")
    except ApiError as error:
        messages.error(request, error.message)
    return redirect("settings")


@require_POST
@admin_required
def update_role(request, role_id):
    role = get_object_or_404(PermissionRole, pk=role_id, organization=request.organization)
    try:
        services.update_role(role, request.POST.get("name", ""), request.POST.getlist("permissions"))
        request.audit_object = role
        messages.success(request, f"Saved the role {role.name}.")
    except ApiError as error:
        messages.error(request, error.message)
    return redirect("settings")


@require_POST
@admin_required
def delete_role(request, role_id):
    role = get_object_or_404(PermissionRole, pk=role_id, organization=request.organization)
    try:
        services.delete_role(role)
        messages.success(request, f"Deleted the role {role.name}.")
    except ApiError as error:
        messages.error(request, error.message)
    return redirect("settings")


@require_POST
@organization_required
def grant(request, kind, object_id):
    model, detail = GRANTABLE[kind]
    target = get_object_or_404(model, pk=object_id, organization=request.organization)
    membership = request.organization.memberships.filter(user_id=services.as_uuid(request.POST.get("user"))) \
        .select_related("user").first()
    role = PermissionRole.objects.filter(organization=request.organization,
                                         pk=services.as_uuid(request.POST.get("role"))).first()
    if membership is None or role is None:
        messages.error(request, "Choose a member and a role to grant.")
    else:
        policy = services.share(request.organization, kind, target, membership.user, role)
        request.audit_object = policy
        messages.success(request, f"{membership.user.email} now has the {role.name} role on {target.name}.")
    return redirect(detail, object_id)


@require_POST
@organization_required
def revoke(request, kind, object_id, policy_id):
    model, detail = GRANTABLE[kind]
    target = get_object_or_404(model, pk=object_id, organization=request.organization)
    policy = get_object_or_404(services.shares_of(request.organization, kind, target.pk), pk=policy_id)
    services.delete_policy(policy)
    messages.success(request, f"Revoked {policy.name}.")
    return redirect(detail, object_id)
