from ninja import Router, Schema

from console.api.schemas import ERRORS, Envelope

router = Router(tags=["Identity"])


class Credential(Schema):
    method: str
    mode: str | None = None


class Identity(Schema):
    id: str | None = None
    email: str | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    role: str | None = None
    is_user: bool
    is_organization: bool
    is_partner: bool = False
    is_system: bool = False
    credential: Credential


class OrganizationOut(Schema):
    id: str
    name: str
    issuer: str | None = None
    sso_domain: str | None = None
    sso_org_id: str | None = None


def identity_of(api_key) -> dict:
    if api_key.partner:
        return {"is_user": False, "is_organization": False, "is_partner": True,
                "credential": {"method": "api_key"}}
    user = api_key.created_by
    membership = user and user.memberships.filter(organization=api_key.organization).first()
    return {
        "id": str(user.id) if user else None,
        "email": user.email if user else None,
        "organization_id": str(api_key.organization_id),
        "organization_name": api_key.organization.name,
        "role": membership.role if membership else None,
        "is_user": user is not None,
        "is_organization": user is None,
        "credential": {"method": "api_key"},
    }


@router.get("/me", response={200: Envelope(Identity), **ERRORS})
def me(request):
    return {"data": identity_of(request.auth)}


@router.get("/organization", response={200: Envelope(OrganizationOut), **ERRORS})
def current_organization(request):
    organization = request.auth.organization
    return {"data": {"id": str(organization.id), "name": organization.name}}
