"""Shared connections: /api/connections/{id}/shared (the owner's key) and
/api/organizations/{org_id}/connections/{connection_id}/shared (a partner key)."""

from uuid import UUID

from ninja import Router, Schema

from console.accounts.models import Organization
from console.accounts.partners import partner_organization
from console.api.errors import ApiError, field_error
from console.api.schemas import ERRORS, Envelope, ListEnvelope

from . import sharing
from .api import ListedConnection, connection_row, invalid, own_connection
from .models import Connection
from .stored import ConfigurationInvalid

router = Router(tags=["Connections"])


class ShareIn(Schema):
    child_organization_id: UUID
    name: str | None = None


class SharedCopy(Schema):
    id: str


def copies_of(connection: Connection) -> dict:
    return {"data": [connection_row(copy) for copy in sharing.shared_copies(connection)]}


def partner_connection(request, org_id: UUID, connection_id: UUID) -> Connection:
    organization = partner_organization(request, org_id)
    connection = Connection.objects.filter(pk=connection_id, organization=organization).first()
    if connection is None:
        raise ApiError(404, f"No connection with id {connection_id} in organization {organization.name!r}.",
                       key="not_found")
    return connection


@router.get("/connections/{connection_id}/shared", response={200: ListEnvelope(ListedConnection), **ERRORS},
            summary="List the shared copies of a connection this organization owns")
def list_shared(request, connection_id: UUID):
    return copies_of(own_connection(request, connection_id))


@router.get("/organizations/{org_id}/connections/{connection_id}/shared",
            response={200: ListEnvelope(ListedConnection), **ERRORS},
            summary="List the shared copies of an organization's connection (partner key)")
def list_shared_for_partner(request, org_id: UUID, connection_id: UUID):
    return copies_of(partner_connection(request, org_id, connection_id))


@router.post("/organizations/{org_id}/connections/{connection_id}/shared",
             response={200: Envelope(SharedCopy), **ERRORS},
             summary="Share an organization's connection with another organization (partner key)")
def share_connection(request, org_id: UUID, connection_id: UUID, payload: ShareIn):
    connection = partner_connection(request, org_id, connection_id)
    child = Organization.objects.filter(pk=payload.child_organization_id).first()
    if child is None:
        raise ApiError(404, f"No organization with id {payload.child_organization_id}.", key="not_found",
                       metadata={"errors": [{"field": "child_organization_id", "message": "is unknown"}]})
    try:
        copy = sharing.share(connection, child, payload.name)
    except sharing.ShareRefused as refused:
        raise field_error(refused.field, refused.message, status=422) from None
    except sharing.AlreadyShared as already:
        raise ApiError(409, str(already), key="conflict", metadata={"id": str(already.copy.pk)}) from None
    except ConfigurationInvalid as error:
        raise invalid(error) from None
    request.audit_object = copy
    return {"data": {"id": str(copy.pk)}}
