"""/api/organizations: the organizations a partner key manages (Polytomic's partner routes)."""

from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.http import HttpResponse
from ninja import Router, Schema
from pydantic import Field

from console.api.errors import ApiError, field_error
from console.api.schemas import ERRORS, Envelope, ListEnvelope

from . import organizations
from .api import OrganizationOut
from .models import Organization
from .partners import partner_organization

router = Router(tags=["Organizations"])


class OrganizationIn(Schema):
    name: str = Field(max_length=200)
    issuer: str | None = Field(None, max_length=500)
    sso_domain: str | None = Field(None, max_length=253)
    sso_org_id: str | None = Field(None, max_length=200)
    client_id: str | None = Field(None, max_length=200)
    client_secret: str | None = Field(None, max_length=1000)


class NewKey(Schema):
    value: str


def organization_out(organization: Organization) -> dict:
    return {"id": str(organization.pk), "name": organization.name, "issuer": organization.issuer or None,
            "sso_domain": organization.sso_domain or None, "sso_org_id": organization.sso_org_id or None}


def checked(payload: OrganizationIn) -> dict:
    fields = payload.dict(exclude_unset=True)
    fields["name"] = payload.name.strip()
    if not fields["name"]:
        raise field_error("name", "is required", status=422)
    if payload.issuer:
        try:
            URLValidator(schemes=["https", "http"])(payload.issuer)
        except DjangoValidationError:
            raise field_error("issuer", "must be an http(s) URL", status=422) from None
    return fields


def saved(change, *args, **fields) -> Organization:
    try:
        return change(*args, **fields)
    except organizations.NameTaken as taken:
        raise ApiError(409, str(taken), key="conflict", metadata={"errors": [{"field": "name",
                                                                             "message": "is taken"}]}) from None


@router.get("/organizations", response={200: ListEnvelope(OrganizationOut), **ERRORS},
            summary="List organizations (partner key)")
def list_organizations(request):
    return {"data": [organization_out(o) for o in Organization.objects.order_by("name")]}


@router.post("/organizations", response={200: Envelope(OrganizationOut), **ERRORS},
             summary="Create an organization (partner key)")
def create_organization(request, payload: OrganizationIn):
    return {"data": organization_out(saved(organizations.create_organization, **checked(payload)))}


@router.get("/organizations/{id}", response={200: Envelope(OrganizationOut), **ERRORS},
            summary="Get an organization (partner key)")
def get_organization(request, id: UUID):
    return {"data": organization_out(partner_organization(request, id))}


@router.put("/organizations/{id}", response={200: Envelope(OrganizationOut), **ERRORS},
            summary="Update an organization (partner key)")
def update_organization(request, id: UUID, payload: OrganizationIn):
    organization = partner_organization(request, id)
    return {"data": organization_out(saved(organizations.update_organization, organization, **checked(payload)))}


@router.delete("/organizations/{id}", response={200: None, **ERRORS},
               summary="Delete an organization and everything it owns (partner key)")
def delete_organization(request, id: UUID):
    organization = partner_organization(request, id)
    request.organization = None  # nothing is left to record the deletion in
    try:
        organizations.delete_organization(organization)
    except organizations.SharesConnections as lent:
        raise ApiError(409, str(lent), key="conflict") from None
    return HttpResponse(status=200)


@router.post("/organizations/{org_id}/users/{id}/keys", response={200: Envelope(NewKey), **ERRORS},
             summary="Issue an API key for a user (partner key; shown once)")
def create_user_key(request, org_id: UUID, id: UUID, force: bool = False):
    organization = partner_organization(request, org_id)
    try:
        api_key, raw_key = organizations.issue_user_key(organization, id, replace=force)
    except organizations.NotAMember as missing:
        raise ApiError(404, str(missing), key="not_found") from None
    except organizations.HasKey as held:
        raise ApiError(409, str(held), key="conflict") from None
    request.audit_object = api_key
    return {"data": {"value": raw_key}}
