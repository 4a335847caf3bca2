"""Users of an organization, permissions roles and policies, as Polytomic's API serves them."""

from django.http import HttpResponse
from ninja import Router, Schema

from console.accounts.partners import partner_organization
from console.api.errors import ApiError, field_error
from console.api.schemas import ERRORS, Envelope, ListEnvelope

from . import services

router = Router(tags=["Users and permissions"])


class UserOut(Schema):
    id: str
    email: str
    organization_id: str
    role: str | None = None
    role_ids: list[str]


class UserIn(Schema):
    email: str
    role: str | None = None
    role_ids: list[str] | None = None


class UserRolesIn(Schema):
    email: str | None = None
    role: str | None = None
    role_ids: list[str] | None = None


class RoleOut(Schema):
    id: str
    name: str
    organization_id: str
    system: bool


class RoleIn(Schema):
    name: str
    organization_id: str | None = None


class PolicyActionSchema(Schema):
    action: str
    role_ids: list[str] | None = None


class PolicyOut(Schema):
    id: str
    name: str
    organization_id: str
    policy_actions: list[PolicyActionSchema]
    system: bool


class PolicyIn(Schema):
    name: str
    organization_id: str | None = None
    policy_actions: list[PolicyActionSchema] | None = None


def user_data(membership, builtin=None) -> dict:
    return {"id": str(membership.user_id), "email": membership.user.email,
            "organization_id": str(membership.organization_id), "role": membership.role or None,
            "role_ids": services.role_ids_of(membership, builtin)}


def role_data(role) -> dict:
    return {"id": str(role.pk), "name": role.name, "organization_id": str(role.organization_id),
            "system": role.system}


def policy_data(policy) -> dict:
    return {"id": str(policy.pk), "name": policy.name, "organization_id": str(policy.organization_id),
            "policy_actions": policy.policy_actions, "system": False}


def own_organization(request, organization_id):
    """The caller's organization; an organization_id in the body must name it."""
    organization = request.auth.organization
    if organization_id and str(services.as_uuid(organization_id) or organization_id) != str(organization.pk):
        raise ApiError(404, f"No organization with id {organization_id}.", key="not_found")
    return organization


# ---- users of the caller's organization -------------------------------------------------


def list_users(organization):
    builtin = services.builtin_roles(organization)
    return {"data": [user_data(m, builtin) for m in services.members(organization)]}


def create_user(organization, payload):
    membership = services.add_user(organization, payload.email, payload.role, payload.role_ids)
    return {"data": user_data(membership)}


def update_user(organization, user_id, payload):
    membership = services.membership_of(organization, user_id)
    if payload.email is not None and payload.email.strip().lower() != membership.user.email:
        raise field_error("email", "cannot be changed here; only the user's roles can", status=422)
    membership = services.set_user_roles(membership, payload.role, payload.role_ids)
    return {"data": user_data(membership)}


def delete_user(organization, user_id):
    membership = services.membership_of(organization, user_id)
    data = user_data(membership)
    services.remove_user(membership)
    return {"data": data}


@router.get("/organization/users", response={200: ListEnvelope(UserOut), **ERRORS})
def list_current_org_users(request):
    return list_users(request.auth.organization)


@router.post("/organization/users", response={200: Envelope(UserOut), **ERRORS})
def create_current_org_user(request, payload: UserIn):
    return create_user(request.auth.organization, payload)


@router.get("/organization/users/{user_id}", response={200: Envelope(UserOut), **ERRORS})
def get_current_org_user(request, user_id: str):
    return {"data": user_data(services.membership_of(request.auth.organization, user_id))}


@router.put("/organization/users/{user_id}", response={200: Envelope(UserOut), **ERRORS})
def update_current_org_user(request, user_id: str, payload: UserRolesIn):
    return update_user(request.auth.organization, user_id, payload)


@router.delete("/organization/users/{user_id}", response={200: Envelope(UserOut), **ERRORS})
def delete_current_org_user(request, user_id: str):
    return delete_user(request.auth.organization, user_id)


# ---- users of an organization a partner key manages --------------------------------------


@router.get("/organizations/{org_id}/users", response={200: ListEnvelope(UserOut), **ERRORS})
def list_org_users(request, org_id: str):
    return list_users(partner_organization(request, org_id))


@router.post("/organizations/{org_id}/users", response={200: Envelope(UserOut), **ERRORS})
def create_org_user(request, org_id: str, payload: UserIn):
    return create_user(partner_organization(request, org_id), payload)


@router.get("/organizations/{org_id}/users/{user_id}", response={200: Envelope(UserOut), **ERRORS})
def get_org_user(request, org_id: str, user_id: str):
    return {"data": user_data(services.membership_of(partner_organization(request, org_id), user_id))}


@router.put("/organizations/{org_id}/users/{user_id}", response={200: Envelope(UserOut), **ERRORS})
def update_org_user(request, org_id: str, user_id: str, payload: UserRolesIn):
    return update_user(partner_organization(request, org_id), user_id, payload)


@router.delete("/organizations/{org_id}/users/{user_id}", response={200: Envelope(UserOut), **ERRORS})
def delete_org_user(request, org_id: str, user_id: str):
    return delete_user(partner_organization(request, org_id), user_id)


# ---- roles ------------------------------------------------------------------------------


@router.get("/permissions/roles", response={200: ListEnvelope(RoleOut), **ERRORS})
def list_roles(request):
    return {"data": [role_data(r) for r in services.organization_roles(request.auth.organization)]}


@router.post("/permissions/roles", response={200: Envelope(RoleOut), **ERRORS})
def create_role(request, payload: RoleIn):
    organization = own_organization(request, payload.organization_id)
    role = services.create_role(organization, payload.name)
    request.audit_object = role
    return {"data": role_data(role)}


@router.get("/permissions/roles/{id}", response={200: Envelope(RoleOut), **ERRORS})
def get_role(request, id: str):
    return {"data": role_data(services.role_of(request.auth.organization, id))}


@router.put("/permissions/roles/{id}", response={200: Envelope(RoleOut), **ERRORS})
def update_role(request, id: str, payload: RoleIn):
    organization = own_organization(request, payload.organization_id)
    role = services.update_role(services.role_of(organization, id), payload.name)
    request.audit_object = role
    return {"data": role_data(role)}


@router.delete("/permissions/roles/{id}", response={200: None, **ERRORS})
def delete_role(request, id: str):
    services.delete_role(services.role_of(request.auth.organization, id))
    return HttpResponse(status=200)


# ---- policies ---------------------------------------------------------------------------


def actions_of(payload) -> list[dict] | None:
    if payload.policy_actions is None:
        return None
    return [entry.model_dump() for entry in payload.policy_actions]


@router.get("/permissions/policies", response={200: ListEnvelope(PolicyOut), **ERRORS})
def list_policies(request):
    return {"data": [policy_data(p) for p in services.organization_policies(request.auth.organization)]}


@router.post("/permissions/policies", response={200: Envelope(PolicyOut), **ERRORS})
def create_policy(request, payload: PolicyIn):
    organization = own_organization(request, payload.organization_id)
    policy = services.create_policy(organization, payload.name, actions_of(payload))
    request.audit_object = policy
    return {"data": policy_data(policy)}


@router.get("/permissions/policies/{id}", response={200: Envelope(PolicyOut), **ERRORS})
def get_policy(request, id: str):
    return {"data": policy_data(services.policy_of(request.auth.organization, id))}


@router.put("/permissions/policies/{id}", response={200: Envelope(PolicyOut), **ERRORS})
def update_policy(request, id: str, payload: PolicyIn):
    organization = own_organization(request, payload.organization_id)
    policy = services.update_policy(services.policy_of(organization, id), payload.name,
                                    actions_of(payload))
    request.audit_object = policy
    return {"data": policy_data(policy)}


@router.delete("/permissions/policies/{id}", response={200: None, **ERRORS})
def delete_policy(request, id: str):
    services.delete_policy(services.policy_of(request.auth.organization, id))
    return HttpResponse(status=200)
