"""Recording the audit log: what a successful changing request did, read from its path.

Views may set `request.audit_object` to the object they made when neither the
path nor the response names it (an API key shown once, an invited member).
"""

import json
import re

from console.permissions import READS, SAFE_METHODS, matches

from .models import AuditEvent

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# (path start, object type), first match wins
OBJECT_TYPES = [
    ("/api/bulk/syncs", "bulk_sync"), ("/bulk", "bulk_sync"),
    ("/api/syncs", "sync"), ("/syncs", "sync"),
    ("/api/models", "model"), ("/models", "model"),
    ("/api/connections", "connection"), ("/connections", "connection"),
    ("/api/webhooks", "webhook"), ("/api/notifications", "notifications"),
    ("/settings/notifications", "notifications"),
    ("/settings/api-keys", "api_key"), ("/settings/members", "member"),
    ("/api/organization/users", "member"), ("/api/permissions/roles", "role"), ("/settings/roles", "role"),
    ("/api/permissions/policies", "policy"),
]
# (end of the path, action) for POSTs that are not plain creations or updates
POST_ACTIONS = [
    ("/executions", "ran"), ("/runs/start", "ran"), ("/retry", "ran"), ("/cancel", "canceled"),
    ("/revoke", "revoked"), ("/remove", "deleted"), ("/delete", "deleted"), ("/test", "tested"),
    ("/refresh", "refreshed"), ("/authorize", "authorized"),
]
NOT_AUDITED = [r"^/connections/oauth/callback$", r"^/syncs/builder$", r"^/bulk/form$", r"^/models/tables$",
               r"^/connections/[^/]+/status$"]


def record_request(request, response):
    """An audit event for a successful changing request, if it changed anything."""
    if request.method in SAFE_METHODS or response.status_code >= 400:
        return None
    path = request.path
    if matches(READS, path) or matches(NOT_AUDITED, path):
        return None
    organization = getattr(request, "organization", None)
    if organization is None:
        return None
    object_type = next((kind for start, kind in OBJECT_TYPES if path.startswith(start)), "")
    made = getattr(request, "audit_object", None)
    object_id, object_name = object_of(path, response, made)
    return AuditEvent.objects.create(
        organization=organization, **actor_of(request), action=action_of(request.method, path),
        object_type=object_type, object_id=object_id, object_name=object_name,
        method=request.method, path=path[:500], status=response.status_code,
    )


def actor_of(request) -> dict:
    api_key = getattr(request, "api_key", None)
    if path_is_api(request.path) and api_key is not None:
        return {"api_key": api_key, "actor": f"API key {api_key.name} ({api_key.prefix}…)", "via": "api"}
    return {"user": request.user, "actor": request.user.email, "via": "console"}


def path_is_api(path: str) -> bool:
    return path.startswith("/api/")


def action_of(method: str, path: str) -> str:
    if method == "DELETE":
        return "deleted"
    if method in ("PUT", "PATCH"):
        return "updated"
    for end, action in POST_ACTIONS:
        if path.endswith(end):
            return action
    if path.endswith(("/new", "/settings/api-keys", "/settings/members", "/api/connections", "/api/models",
                      "/api/syncs", "/api/bulk/syncs", "/api/webhooks", "/api/organization/users",
                      "/api/permissions/roles", "/api/permissions/policies", "/settings/roles")) or "/new/" in path:
        return "created"
    return "updated"


def object_of(path: str, response, made=None) -> tuple[str, str]:
    """The object's id and name: from the view, the path, the redirect or the JSON answer."""
    if made is not None:
        return str(made.pk), str(made)[:300]
    found = re.search(UUID, path) or re.search(UUID, response.get("Location", "") or "")
    data = json_data(response)
    object_id = found.group(0) if found else str(data.get("id") or "")
    if not found:
        member = re.search(r"/settings/members/(\d+)/", path)
        object_id = member.group(1) if member else object_id
    return object_id, str(data.get("name") or "")[:300]


def json_data(response) -> dict:
    if "json" not in response.get("Content-Type", "") or getattr(response, "streaming", False):
        return {}
    try:
        data = json.loads(response.content).get("data")
    except (ValueError, AttributeError):
        return {}
    return data if isinstance(data, dict) else {}


def record_sign_in(user, organization):
    AuditEvent.objects.create(organization=organization, user=user, actor=user.email, via="console",
                              action="signed_in", object_type="user", object_id=str(user.pk),
                              object_name=user.email)
