"""Organizations as a partner key manages them: list, create, change and delete."""

from django.db import IntegrityError, transaction

from console.bulk.models import BulkSync
from console.bulk.runs import bulk_runs
from console.connections import sharing
from console.crypto import encrypt_json
from console.datamodels.models import DataModel
from console.engine.lifecycle import NotCancelable
from console.engine.models import ACTIVE_STATUSES
from console.engine.services import sync_runs
from console.syncs.models import Sync

from .models import ApiKey, Membership, Organization, User
from .services import create_api_key

SSO_FIELDS = ("issuer", "sso_domain", "sso_org_id", "client_id")


class NameTaken(Exception):
    """Organization names are unique across the instance."""


class NotAMember(Exception):
    """The user does not belong to the organization."""


class HasKey(Exception):
    """The user already holds an active key in the organization."""


class SharesConnections(Exception):
    """Other organizations use copies of its connections."""


def create_organization(name: str, **sso) -> Organization:
    organization = Organization(name=name)
    apply_sso(organization, sso)
    return saved(organization)


def update_organization(organization: Organization, name: str, **sso) -> Organization:
    """Sets the name and the SSO fields given; fields left out keep their value."""
    organization.name = name
    apply_sso(organization, sso)
    return saved(organization)


def apply_sso(organization: Organization, sso: dict):
    for field in SSO_FIELDS:
        if field in sso:
            setattr(organization, field, sso[field] or "")
    if "client_secret" in sso:
        secret = sso["client_secret"]
        organization.encrypted_client_secret = encrypt_json({"client_secret": secret}) if secret else ""


def saved(organization: Organization) -> Organization:
    if Organization.objects.filter(name__iexact=organization.name).exclude(pk=organization.pk).exists():
        raise NameTaken(f"An organization named {organization.name!r} already exists.")
    try:
        with transaction.atomic():
            organization.save()
    except IntegrityError:
        raise NameTaken(f"An organization named {organization.name!r} already exists.") from None
    return organization


def delete_organization(organization: Organization):
    """Cancels its active runs, then removes everything it owns, and the users who belong nowhere else."""
    lent = sharing.shared_elsewhere(organization).select_related("organization")
    if lent.exists():
        names = ", ".join(sorted({copy.organization.name for copy in lent}))
        raise SharesConnections(f"Its connections are shared with {names}; delete those shared connections "
                                "first.")
    for runs in (sync_runs, bulk_runs):
        for execution in runs.model.objects.filter(sync__organization=organization, status__in=ACTIVE_STATUSES):
            try:
                runs.cancel(execution)
            except NotCancelable:  # it ended meanwhile
                pass
    with transaction.atomic():
        only_here = User.objects.filter(memberships__organization=organization).exclude(
            memberships__organization__in=Organization.objects.exclude(pk=organization.pk))
        only_here = list(only_here.filter(is_superuser=False))
        # Syncs and models protect what they use, so they go before the connections.
        for owned in (Sync, BulkSync, DataModel):
            owned.objects.filter(organization=organization).delete()
        organization.delete()
        for user in only_here:
            user.delete()


@transaction.atomic
def issue_user_key(organization: Organization, user_id, replace: bool = False) -> tuple[ApiKey, str]:
    """A new key acting as this member, with the member's role; `replace` revokes the keys they hold."""
    membership = Membership.objects.select_related("user").filter(organization=organization, user_id=user_id).first()
    if membership is None:
        raise NotAMember(f"No user with id {user_id} in organization {organization.name!r}.")
    held = ApiKey.objects.select_for_update().filter(organization=organization, created_by=membership.user,
                                                     revoked_at__isnull=True)
    if held.exists() and not replace:
        raise HasKey(f"{membership.user.email} already has an API key; pass force=true to revoke it and "
                     "issue a new one.")
    for key in held:
        key.revoke()
    return create_api_key(organization, f"API key of {membership.user.email}", created_by=membership.user,
                          role=membership.role)
