"""Who may do what to which object: the organization-wide role first, then policies.

A request names at most one governed object (a connection, model, sync or bulk sync) by its
path. A principal whose organization role does not allow the request may still act on that
object through a policy; lists of a governed kind show such a principal only what it may read.
"""

import re
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Q

from console.accounts.models import Role, role_allows
from console.permissions import is_acting, required_role

from .models import PermissionRole, Policy

UUID = r"[0-9a-fA-F-]{36}"
OBJECT_PATHS = [
    ("sync", re.compile(rf"^/(?:api/)?syncs/(?P<id>{UUID})(?:/|$)")),
    ("bulk_sync", re.compile(rf"^/(?:api/bulk/syncs|bulk)/(?P<id>{UUID})(?:/|$)")),
    ("model", re.compile(rf"^/(?:api/)?models/(?P<id>{UUID})(?:/|$)")),
    ("connection", re.compile(rf"^/(?:api/)?connections/(?P<id>{UUID})(?:/|$)")),
]
LIST_PATHS = [
    ("sync", re.compile(r"^/(?:api/)?syncs$")),
    ("bulk_sync", re.compile(r"^/(?:api/bulk/syncs|bulk)$")),
    ("model", re.compile(r"^/(?:api/)?models$")),
    ("connection", re.compile(r"^/(?:api/)?connections$")),
]
TRIGGERS = re.compile(r"/(executions|runs/start|cancel|retry)(/|$)")
# the console's welcome page, where sign-in lands, and the API's "who am I": open to every member and key
OPEN_TO_EVERY_MEMBER = ("/", "/api/me")


def governed_object(path: str) -> tuple[str | None, str | None]:
    for kind, pattern in OBJECT_PATHS:
        match = pattern.match(path)
        if match:
            return kind, match.group("id").lower()
    return None, None


def governed_list(path: str) -> str | None:
    return next((kind for kind, pattern in LIST_PATHS if pattern.match(path)), None)


def action_of(method: str, path: str) -> str:
    """The policy action (console/access/models.ACTIONS) a request performs."""
    if not is_acting(method, path):
        return "read"
    if "/grants" in path:
        return "apply_policy"
    if method == "DELETE" or path.endswith("/delete"):
        return "delete"
    if governed_list(path) or path.endswith("/new"):
        return "create"
    return "trigger" if TRIGGERS.search(path) else "edit"


@dataclass
class Principal:
    """A member (user_id, membership_id) or an API key (api_key_id) acting in one organization."""

    organization_id: object
    role: str
    user_id: object = None
    membership_id: int | None = None
    api_key_id: object = None
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def of_membership(cls, membership):
        return cls(membership.organization_id, membership.role, user_id=membership.user_id,
                   membership_id=membership.pk)

    @classmethod
    def of_api_key(cls, api_key):
        return cls(api_key.organization_id, api_key.role, api_key_id=api_key.pk)

    @cached_property
    def custom_roles(self) -> list[PermissionRole]:
        if self.membership_id is None:
            return []
        return list(PermissionRole.objects.filter(holders=self.membership_id))

    @cached_property
    def role_ids(self) -> set[str]:
        ids = {str(role.pk) for role in self.custom_roles}
        if self.role:
            ids.update(str(pk) for pk in PermissionRole.objects.filter(
                organization_id=self.organization_id, builtin=self.role).values_list("pk", flat=True))
        return ids

    def policies(self, kind: str) -> list[tuple[Policy, bool]]:
        """The organization's policies on the organization or on objects of this kind, each with
        whether this principal is one of its users or keys."""
        if kind not in self._cache:
            policies = list(Policy.objects.filter(organization_id=self.organization_id).filter(
                Q(target_kind="organization") | Q(target_kind=kind)))
            mine = Q(users=self.user_id) if self.user_id else Q(api_keys=self.api_key_id)
            listed = set(Policy.objects.filter(pk__in=[p.pk for p in policies]).filter(mine)
                         .values_list("pk", flat=True))
            self._cache[kind] = [(policy, policy.pk in listed) for policy in policies]
        return self._cache[kind]

    def grants(self, policy: Policy, listed: bool, action: str) -> bool:
        return any(entry.get("action") == action and entry.get("role_ids")
                   and (listed or set(entry["role_ids"]) & self.role_ids)
                   for entry in policy.policy_actions)

    def allows_everywhere(self, action: str, kind: str) -> bool:
        """The organization role, a custom role held organization-wide or an organization-wide policy."""
        if self.role and action == "read":
            return True  # every built-in role reads; what else it does is console/permissions.py's table
        if any(action in role.permissions for role in self.custom_roles):
            return True
        return any(policy.target_kind == "organization" and self.grants(policy, listed, action)
                   for policy, listed in self.policies(kind))

    def object_ids(self, kind: str, action: str) -> set[str]:
        return {str(policy.target_id) for policy, listed in self.policies(kind)
                if policy.target_kind == kind and self.grants(policy, listed, action)}

    def may(self, action: str, kind: str, object_id) -> bool:
        return self.allows_everywhere(action, kind) or str(object_id).lower() in self.object_ids(kind, action)


@dataclass
class Refusal:
    status: int  # 403 or 404
    required_role: str


def refusal(principal: Principal, method: str, path: str) -> Refusal | None:
    """Why this principal may not make this request, or None when it may."""
    needed = required_role(method, path)
    if role_allows(principal.role, needed):
        return None
    action = action_of(method, path)
    kind, object_id = governed_object(path)
    if kind:
        if principal.may(action, kind, object_id):
            return None
        return Refusal(404 if action == "read" else 403, needed)  # unseen objects are not found
    if path in OPEN_TO_EVERY_MEMBER and action == "read":
        return None
    list_kind = governed_list(path)
    if list_kind and (action == "read" or principal.allows_everywhere(action, list_kind)):
        return None  # the list shows only what the principal may read (visible)
    if needed == Role.READ_ONLY and principal.allows_everywhere("read", "organization"):
        return None  # a custom role or organization-wide policy that reads reads every page
    return Refusal(403, needed)


def visible(request, queryset, kind: str):
    """The objects of a list the request's principal may read."""
    principal = getattr(request, "access", None)
    if principal is None or principal.allows_everywhere("read", kind):
        return queryset
    return queryset.filter(pk__in=principal.object_ids(kind, "read"))
