import base64
import binascii
import secrets
import uuid

from django.db import transaction
from django.utils import timezone

from .models import ApiKey, Membership, Organization, Role, User, hash_api_key


@transaction.atomic
def sign_up(email: str, password: str, organization_name: str) -> User:
    """A new user and the organization they administer."""
    user = User.objects.create_user(email=email, password=password)
    organization = Organization.objects.create(name=organization_name)
    Membership.objects.create(user=user, organization=organization, role=Role.ADMIN)
    return user


def set_oauth_redirect_urls(organization: Organization, urls: list[str]):
    organization.oauth_redirect_urls = urls
    organization.save(update_fields=["oauth_redirect_urls"])


def set_record_logging(organization: Organization, enabled: bool):
    organization.record_logging = enabled
    organization.save(update_fields=["record_logging"])


def add_member(organization: Organization, user: User, role: str = Role.MEMBER) -> Membership:
    membership, _ = Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    return membership


class LastAdmin(Exception):
    """An organization always keeps one admin."""


def invite_member(organization: Organization, email: str, role: str) -> tuple[Membership, str | None]:
    """Adds the person with this email; a new account gets a password shown once (returned)."""
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    password = None
    if user is None:
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(email=email, password=password)
    membership, created = Membership.objects.get_or_create(organization=organization, user=user,
                                                           defaults={"role": role})
    if not created and membership.role != role:
        membership = change_role(membership, role)
    return membership, password


@transaction.atomic
def change_role(membership: Membership, role: str) -> Membership:
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        ensure_another_admin(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(membership: Membership):
    if membership.role == Role.ADMIN:
        ensure_another_admin(membership)
    membership.delete()


def ensure_another_admin(membership: Membership):
    admins = Membership.objects.select_for_update().filter(organization=membership.organization_id,
                                                           role=Role.ADMIN)
    if not admins.exclude(pk=membership.pk).exists():
        raise LastAdmin("The organization needs at least one admin; make someone else an admin first.")


def create_api_key(organization: Organization, name: str, created_by: User | None = None,
                   role: str = Role.ADMIN):
    """Returns (api_key, raw_key). Only the hash is stored; the raw key is shown once."""
    return _new_key(organization=organization, created_by=created_by, name=name, role=role)


def create_partner_key(name: str):
    """Returns (api_key, raw_key) of an instance-level key that manages every organization."""
    return _new_key(organization=None, partner=True, name=name, role=Role.ADMIN)


def _new_key(**fields):
    raw_key = str(uuid.uuid4())
    api_key = ApiKey.objects.create(prefix=raw_key[:8], key_hash=hash_api_key(raw_key), **fields)
    return api_key, raw_key


def _candidate_keys(authorization: str):
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if not value:
        return []
    if scheme.lower() == "bearer":
        # Older Polytomic clients sent the key base64-encoded.
        return [value, _b64decode(value)]
    if scheme.lower() == "basic":
        decoded = _b64decode(value) or ""
        return [decoded.split(":", 1)[0]]
    return []


def _b64decode(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def api_key_from_header(authorization: str) -> ApiKey | None:
    hashes = [hash_api_key(k) for k in _candidate_keys(authorization) if k]
    if not hashes:
        return None
    api_key = (
        ApiKey.objects.select_related("organization", "created_by")
        .filter(key_hash__in=hashes, revoked_at__isnull=True)
        .first()
    )
    if api_key is not None:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    return api_key
