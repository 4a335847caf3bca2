"""Roles, policies and the users of an organization, as the API and the console change them.

Errors are ApiErrors naming the field (console/api/errors.py); views show their message. A user's
email or roles refused answer 422, as Polytomic's users routes declare.
"""

from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from console.accounts.models import Membership, Organization, Role, User
from console.accounts.services import LastAdmin, change_role, invite_member, remove_member
from console.api.errors import ApiError, field_error

from .models import ACTIONS, BUILTIN_PERMISSIONS, PermissionRole, Policy

BUILTIN_NAMES = {Role.ADMIN: "Admin", Role.MEMBER: "Member", Role.READ_ONLY: "Read-only"}


# ---- roles ------------------------------------------------------------------------------


def builtin_roles(organization: Organization) -> dict[str, PermissionRole]:
    """The organization's rows for admin, member and read-only, made on first use."""
    roles = {role.builtin: role for role in PermissionRole.objects.filter(organization=organization)
             .exclude(builtin="")}
    for builtin in BUILTIN_PERMISSIONS:
        if builtin not in roles:
            try:
                with transaction.atomic():
                    roles[builtin] = PermissionRole.objects.create(
                        organization=organization, builtin=builtin, name=BUILTIN_NAMES[builtin])
            except IntegrityError:  # made meanwhile by another request
                roles[builtin] = PermissionRole.objects.get(organization=organization, builtin=builtin)
    return roles


def organization_roles(organization: Organization):
    builtin_roles(organization)
    return PermissionRole.objects.filter(organization=organization).order_by("-builtin", "created_at", "name")


def role_of(organization: Organization, role_id) -> PermissionRole:
    builtin_roles(organization)
    role = PermissionRole.objects.filter(organization=organization, pk=as_uuid(role_id)).first()
    if role is None:
        raise ApiError(404, f"No role with id {role_id} in this organization.", key="not_found")
    return role


def create_role(organization: Organization, name, permissions=()) -> PermissionRole:
    builtin_roles(organization)  # so a custom role cannot take a built-in's name
    return save_role(PermissionRole(organization=organization, builtin=""), name, permissions)


def update_role(role: PermissionRole, name, permissions=None) -> PermissionRole:
    refuse_builtin(role, "changed")
    return save_role(role, name, role.permissions if permissions is None else permissions)


@transaction.atomic
def delete_role(role: PermissionRole):
    """Deletes a custom role and takes it out of the policies that name it."""
    refuse_builtin(role, "deleted")
    role_id = str(role.pk)
    for policy in Policy.objects.select_for_update().filter(organization=role.organization_id):
        kept = [{**entry, "role_ids": [r for r in entry.get("role_ids") or [] if r != role_id]}
                for entry in policy.policy_actions]
        if kept != policy.policy_actions:
            policy.policy_actions = kept
            policy.save(update_fields=["policy_actions"])
    role.delete()


def refuse_builtin(role: PermissionRole, verb: str):
    if role.builtin:
        raise ApiError(403, f"{role.name} is a built-in role; built-in roles cannot be {verb}.",
                       key="builtin_role")


def save_role(role: PermissionRole, name, permissions) -> PermissionRole:
    role.name = clean_name(name, 100)
    role.permissions = clean_permissions(permissions)
    if PermissionRole.objects.filter(organization=role.organization_id, name__iexact=role.name).exclude(
            pk=role.pk).exists():
        raise field_error("name", f"a role named {role.name} already exists", status=409)
    role.save()
    return role


def clean_name(name, max_length: int) -> str:
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "is required")
    if len(name.strip()) > max_length:
        raise field_error("name", f"must be at most {max_length} characters")
    return name.strip()


def clean_permissions(permissions) -> list[str]:
    if not isinstance(permissions, (list, tuple)) or not all(isinstance(p, str) for p in permissions):
        raise field_error("permissions", "must be a list of action names")
    unknown = [p for p in permissions if p not in ACTIONS]
    if unknown:
        raise field_error("permissions", f"'{unknown[0]}' is not an action; actions: {', '.join(ACTIONS)}")
    return [action for action in ACTIONS if action in permissions]


# ---- policies ---------------------------------------------------------------------------


def organization_policies(organization: Organization):
    return Policy.objects.filter(organization=organization).order_by("created_at")


def policy_of(organization: Organization, policy_id) -> Policy:
    policy = Policy.objects.filter(organization=organization, pk=as_uuid(policy_id)).first()
    if policy is None:
        raise ApiError(404, f"No policy with id {policy_id} in this organization.", key="not_found")
    return policy


def create_policy(organization: Organization, name, policy_actions, *, target_kind="organization",
                  target_id=None, users=(), api_keys=()) -> Policy:
    policy = Policy(organization=organization, name=clean_name(name, 200), target_kind=target_kind,
                    target_id=target_id, policy_actions=clean_policy_actions(organization, policy_actions))
    with transaction.atomic():
        policy.save()
        policy.users.set(users)
        policy.api_keys.set(api_keys)
    return policy


def update_policy(policy: Policy, name, policy_actions) -> Policy:
    policy.name = clean_name(name, 200)
    policy.policy_actions = clean_policy_actions(policy.organization, policy_actions)
    policy.save(update_fields=["name", "policy_actions"])
    return policy


def delete_policy(policy: Policy):
    policy.delete()


def clean_policy_actions(organization: Organization, policy_actions) -> list[dict]:
    if policy_actions is None:
        return []
    if not isinstance(policy_actions, list):
        raise field_error("policy_actions", "must be a list of {action, role_ids}")
    known = {str(pk) for pk in organization_roles(organization).values_list("pk", flat=True)}
    cleaned, seen = [], set()
    for index, entry in enumerate(policy_actions):
        where = f"policy_actions.{index}"
        action = entry.get("action") if isinstance(entry, dict) else None
        if action not in ACTIONS:
            raise field_error(f"{where}.action", f"must be one of {', '.join(ACTIONS)}")
        if action in seen:
            raise field_error(f"{where}.action", f"'{action}' is listed twice")
        seen.add(action)
        role_ids = entry.get("role_ids") or []
        if not isinstance(role_ids, list):
            raise field_error(f"{where}.role_ids", "must be a list of role ids")
        role_ids = [str(as_uuid(r) or r) for r in role_ids]
        unknown = [r for r in role_ids if r not in known]
        if unknown:
            raise field_error(f"{where}.role_ids", f"no role {unknown[0]} in this organization")
        cleaned.append({"action": action, "role_ids": list(dict.fromkeys(role_ids))})
    return cleaned


def share(organization: Organization, kind: str, target, user: User, role: PermissionRole) -> Policy:
    """Grants `role` on one object to one member: a policy on that object naming the user."""
    if not Membership.objects.filter(organization=organization, user=user).exists():
        raise field_error("user", "is not a member of this organization")
    actions = [{"action": action, "role_ids": [str(role.pk)]} for action in role.allowed]
    return create_policy(organization, f"{role.name} on {target.name} for {user.email}", actions,
                         target_kind=kind, target_id=target.pk, users=[user])


def shares_of(organization: Organization, kind: str, target_id):
    return Policy.objects.filter(organization=organization, target_kind=kind, target_id=target_id) \
        .prefetch_related("users").order_by("created_at")


# ---- users ------------------------------------------------------------------------------


def members(organization: Organization):
    return Membership.objects.filter(organization=organization).select_related("user") \
        .prefetch_related("custom_roles").order_by("user__email")


def membership_of(organization: Organization, user_id) -> Membership:
    membership = members(organization).filter(user_id=as_uuid(user_id)).first()
    if membership is None:
        raise ApiError(404, f"No user with id {user_id} in this organization.", key="not_found")
    return membership


def role_ids_of(membership: Membership, builtin: dict | None = None) -> list[str]:
    """The ids of the roles the member holds; `builtin` (builtin_roles) saves a query per member of a list."""
    builtin = builtin or builtin_roles(membership.organization)
    ids = [str(builtin[membership.role].pk)] if membership.role in builtin else []
    return ids + [str(role.pk) for role in membership.custom_roles.all()]


def add_user(organization: Organization, email, role=None, role_ids=None) -> Membership:
    email = clean_email(email)
    builtin, custom = chosen_roles(organization, role, role_ids)
    if Membership.objects.filter(organization=organization, user__email=email).exists():
        raise field_error("email", f"{email} is already a member of this organization", status=409)
    with transaction.atomic():
        membership, _ = invite_member(organization, email, builtin or Role.MEMBER)
        if builtin is None and custom is not None:
            membership.role = ""
            membership.save(update_fields=["role"])
        membership.custom_roles.set(custom or [])
    return membership


def set_user_roles(membership: Membership, role=None, role_ids=None) -> Membership:
    if role is None and role_ids is None:
        return membership
    builtin, custom = chosen_roles(membership.organization, role, role_ids)
    with transaction.atomic():
        try:
            change_role(membership, builtin or "")
        except LastAdmin as error:
            raise ApiError(409, str(error), key="last_admin") from None
        if custom is not None:
            membership.custom_roles.set(custom)
    return membership


def set_single_role(membership: Membership, choice: str) -> Membership:
    """The console's choice of one role: a built-in role's name, a custom role's id, or "none"
    (the member then does only what is granted on single objects)."""
    if choice == "none":
        with transaction.atomic():
            try:
                change_role(membership, "")
            except LastAdmin as error:
                raise ApiError(409, str(error), key="last_admin") from None
            membership.custom_roles.clear()
        return membership
    if choice in BUILTIN_PERMISSIONS:
        return set_user_roles(membership, role_ids=[str(builtin_roles(membership.organization)[choice].pk)])
    return set_user_roles(membership, role_ids=[choice])


def single_role(membership: Membership) -> str:
    """What the console's role menu shows as chosen for a member (set_single_role's values)."""
    if membership.role:
        return membership.role
    custom = membership.custom_roles.all()
    return str(custom[0].pk) if custom else "none"


@transaction.atomic
def remove_user(membership: Membership):
    """Removes the member and what was granted to them in the organization."""
    try:
        remove_member(membership)
    except LastAdmin as error:
        raise ApiError(409, str(error), key="last_admin") from None
    for policy in Policy.objects.filter(organization=membership.organization_id, users=membership.user_id):
        policy.users.remove(membership.user_id)
        if policy.target_kind != "organization" and not policy.users.exists() and not policy.api_keys.exists():
            policy.delete()


def chosen_roles(organization: Organization, role, role_ids) -> tuple[str | None, list | None]:
    """(built-in role or None, custom roles or None) from the legacy `role` or `role_ids`."""
    if role is not None and role_ids is not None:
        raise field_error("role_ids", "give role or role_ids, not both", status=422)
    if role is not None:
        if role not in BUILTIN_PERMISSIONS:
            raise field_error("role", f"must be one of {', '.join(BUILTIN_PERMISSIONS)}", status=422)
        return role, None
    if role_ids is None:
        return None, None
    if not isinstance(role_ids, list) or not role_ids:
        raise field_error("role_ids", "must list at least one role id", status=422)
    roles = []
    for role_id in role_ids:
        found = PermissionRole.objects.filter(organization=organization, pk=as_uuid(role_id)).first()
        if found is None:
            raise field_error("role_ids", f"no role {role_id} in this organization", status=422)
        roles.append(found)
    builtins = [r.builtin for r in roles if r.builtin]
    if len(builtins) > 1:
        raise field_error("role_ids", "may hold at most one built-in role (Admin, Member or Read-only)", status=422)
    return (builtins[0] if builtins else None), [r for r in roles if not r.builtin]


def clean_email(email) -> str:
    if not isinstance(email, str) or not email.strip():
        raise field_error("email", "is required", status=422)
    try:
        validate_email(email.strip())
    except ValidationError:
        raise field_error("email", "is not a valid email address", status=422) from None
    return email.strip().lower()


def as_uuid(value) -> UUID | None:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        return None
