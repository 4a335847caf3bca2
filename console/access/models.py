"""Roles (named sets of permissions) and policies (grants of roles on the organization or one object)."""

import uuid

from django.db import models

from console.accounts.models import ApiKey, Membership, Organization, Role, User

# Polytomic's policy action names.
ACTIONS = ("read", "create", "edit", "delete", "trigger", "apply_policy")
BUILTIN_PERMISSIONS = {
    Role.ADMIN: list(ACTIONS),
    Role.MEMBER: ["read", "create", "edit", "delete", "trigger"],
    Role.READ_ONLY: ["read"],
}
# What a policy may be granted on: the whole organization or one object of these kinds.
KINDS = ("organization", "connection", "model", "sync", "bulk_sync")


class PermissionRole(models.Model):
    """Built-in roles (admin, member, read-only) mirror Membership.role and never change;
    custom roles are held by members (organization-wide) or granted through policies."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="permission_roles")
    name = models.CharField(max_length=100)
    permissions = models.JSONField(default=list, blank=True)
    builtin = models.CharField(max_length=20, blank=True, choices=Role.choices)
    holders = models.ManyToManyField(Membership, blank=True, related_name="custom_roles")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="one_role_name_per_org"),
            models.UniqueConstraint(fields=["organization", "builtin"], condition=~models.Q(builtin=""),
                                    name="one_builtin_role_per_org"),
        ]

    def __str__(self):
        return self.name

    @property
    def system(self) -> bool:
        return bool(self.builtin)

    @property
    def allowed(self) -> list[str]:
        return BUILTIN_PERMISSIONS[self.builtin] if self.builtin else self.permissions


class Policy(models.Model):
    """policy_actions ([{action, role_ids}]) allow each action, on the target, to whoever holds one
    of its roles in the organization, and to the policy's own users and API keys."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="policies")
    name = models.CharField(max_length=200)
    target_kind = models.CharField(max_length=20, default="organization")
    target_id = models.UUIDField(null=True, blank=True)
    policy_actions = models.JSONField(default=list, blank=True)
    users = models.ManyToManyField(User, blank=True, related_name="policies")
    api_keys = models.ManyToManyField(ApiKey, blank=True, related_name="policies")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["organization", "target_kind", "target_id"])]

    def __str__(self):
        return self.name

    def role_ids(self) -> set[str]:
        return {role_id for entry in self.policy_actions for role_id in entry.get("role_ids") or []}
