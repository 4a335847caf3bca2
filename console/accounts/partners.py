"""Partner keys: instance-level keys that manage organizations under /api/organizations.

A partner key calls only those routes (and /api/me); an organization's key never does.
"""

import re
from uuid import UUID

from console.api.errors import ApiError

from .models import ApiKey, Organization

PARTNER_ROUTES = re.compile(r"^/api/organizations(/|$)")
EVERY_KEY_ROUTES = re.compile(r"^/api/me$")


def route_refusal(api_key: ApiKey, path: str) -> ApiError | None:
    """Why this key may not call this path at all, or None."""
    if EVERY_KEY_ROUTES.match(path):
        return None
    if api_key.partner and not PARTNER_ROUTES.match(path):
        return ApiError(403, "A partner key only manages organizations under /api/organizations; use a key "
                             "of the organization itself (POST /api/organizations/{org_id}/users/{id}/keys "
                             "makes one).", key="partner_key")
    if not api_key.partner and PARTNER_ROUTES.match(path):
        return not_partner()
    return None


def not_partner() -> ApiError:
    return ApiError(403, "Only a partner key can manage organizations; this key belongs to one "
                         "organization.", key="partner_key_required")


def partner_organization(request, org_id: UUID | str) -> Organization:
    """The organization the request's partner key acts on: 403 for other keys, 404 when unknown."""
    api_key = getattr(request, "auth", None)
    if not isinstance(api_key, ApiKey) or not api_key.partner:
        raise not_partner()
    organization = Organization.objects.filter(pk=as_uuid(org_id)).first() if as_uuid(org_id) else None
    if organization is None:
        raise ApiError(404, f"No organization with id {org_id}.", key="not_found")
    request.organization = organization  # so the audit log records the change in that organization
    return organization


def as_uuid(value) -> UUID | None:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        return None
