"""OAuth for connections: the authorize URL, the callback's code exchange and token refresh.

The authorize URL carries a random `state`; only its SHA-256 is stored, with the
connection, organization and user it belongs to, for ten minutes and one use.
PKCE (S256) is added for providers that support it. Tokens land encrypted in the
connection's secrets as oauth_access_token, oauth_refresh_token,
oauth_token_expiry (epoch seconds) and oauth_<extra> (instance_url, ...).
"""

import base64
import hashlib
import logging
import os
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from console.accounts import redirect_urls
from integrations.base import ConnectionFailed, NeedsReconnect
from integrations.connection_types import ConnectionType
from integrations.egress import EgressTransport
from integrations.responses import provider_words

from . import probes, stored
from .models import Connection, ConnectionStatus, OAuthState

logger = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)
CALLBACK_PATH = "/connections/oauth/callback"
REFRESH_MARGIN = 60  # seconds before expiry at which a token is renewed
TOKEN_TIMEOUT = 20
RENEWAL_WAIT = 60  # seconds a renewal waits for another process's renewal of the same connection
SANDBOX_CLIENT = ("sandbox-client", "sandbox-secret")


class OAuthRefused(Exception):
    """The callback cannot be honoured; the message is safe to show."""


@dataclass
class Outcome:
    connection: Connection | None
    ok: bool
    message: str
    redirect_url: str = ""


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def client_credentials(kind: ConnectionType, config: dict) -> tuple[str, str]:
    """The OAuth app: the customer's own (configuration), else the console's
    ({TYPE}_OAUTH_CLIENT_ID / _SECRET in the environment), else the sandbox's."""
    id_field, secret_field = kind.oauth.client_fields
    if config.get(id_field) and config.get(secret_field):
        return config[id_field], config[secret_field]
    prefix = kind.id.upper()
    client_id = os.environ.get(f"{prefix}_OAUTH_CLIENT_ID")
    client_secret = os.environ.get(f"{prefix}_OAUTH_CLIENT_SECRET")
    if client_id and client_secret:
        return client_id, client_secret
    if settings.SANDBOX_URL:
        return SANDBOX_CLIENT
    raise ConnectionFailed(f"No OAuth app is configured for {kind.name}: set {prefix}_OAUTH_CLIENT_ID and "
                           f"{prefix}_OAUTH_CLIENT_SECRET, or give client credentials in the configuration.")


def endpoint_url(kind: ConnectionType, endpoint, config: dict) -> str:
    values = kind.provider.url_values(config)
    return endpoint.url(settings.SANDBOX_URL, **values)


def authorization_url(connection: Connection, *, callback_url: str, user=None, bind_session=False,
                      redirect_url: str = "") -> str:
    """Where to send the person to consent; records the state that the callback will expect."""
    if connection.parent_id:
        raise ConnectionFailed(f"{connection.name!r} is shared with this organization; only the organization "
                               "that owns it can authorize it again.")
    kind = stored.connection_type(connection.type)
    spec = kind.oauth
    if spec is None:
        raise ConnectionFailed(f"{kind.name} connections do not sign in with OAuth.")
    config = stored.connection_config(connection)
    client_id, _ = client_credentials(kind, config)
    state = secrets.token_urlsafe(32)
    record = OAuthState(
        state_hash=hash_state(state), connection=connection, organization=connection.organization,
        user=user, bind_session=bind_session, callback_url=callback_url, redirect_url=redirect_url or "",
        expires_at=timezone.now() + STATE_LIFETIME,
    )
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": callback_url, "state": state}
    if spec.scopes:
        params["scope"] = spec.scope_separator.join(spec.scopes)
    if spec.pkce:
        verifier = secrets.token_urlsafe(48)
        record.code_verifier = verifier
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(dict(spec.authorize_params))
    OAuthState.objects.filter(expires_at__lt=timezone.now() - STATE_LIFETIME).delete()
    record.save()
    return endpoint_url(kind, spec.authorize, config) + "?" + urlencode(params)


def claim_state(state: str, user) -> OAuthState:
    """The stored attempt for this state, marked used; OAuthRefused when it is not good."""
    if not state:
        raise OAuthRefused("The answer from the provider carries no state, so it cannot be matched to a "
                           "connection. Start the connection again.")
    record = OAuthState.objects.select_related("connection", "organization").filter(
        state_hash=hash_state(state)).first()
    if record is None:
        raise OAuthRefused("This authorization answer does not match any connection attempt. Start again "
                           "from the connection page.")
    if record.used_at is not None:
        raise OAuthRefused("This authorization answer was already used. Start again from the connection page.")
    if record.expires_at < timezone.now():
        raise OAuthRefused("This authorization attempt expired (they last 10 minutes). Start again from the "
                           "connection page.")
    if record.bind_session and (not user.is_authenticated or user.pk != record.user_id):
        raise OAuthRefused("This authorization was started by someone else. Sign in as that person, or start "
                           "again from the connection page.")
    if record.connection.organization_id != record.organization_id or (
            user.is_authenticated and not user.memberships.filter(organization=record.organization_id).exists()):
        raise OAuthRefused("This authorization was started in an organization you do not belong to, so it is "
                           "not completed. Start again from a connection of your own organization.")
    record.redirect_url = redirect_urls.allowed_or_empty(record.organization, record.redirect_url)
    claimed = OAuthState.objects.filter(pk=record.pk, used_at__isnull=True).update(used_at=timezone.now())
    if not claimed:
        raise OAuthRefused("This authorization answer was already used. Start again from the connection page.")
    return record


def finish_authorization(params: dict, user) -> Outcome:
    """Handle the provider's redirect back: exchange the code and store the tokens
    (services.finish_authorization then checks the connection)."""
    try:
        record = claim_state(params.get("state", ""), user)
    except OAuthRefused as refusal:
        return Outcome(None, False, str(refusal))
    connection = record.connection
    kind = stored.connection_type(connection.type)
    if params.get("error"):
        if params["error"] == "access_denied":
            message = f"Access was denied at {kind.name}, so the connection is not authorized. Connect again to retry."
        else:
            detail = params.get("error_description") or params["error"]
            message = f"{kind.name} did not authorize the connection: {detail}"
        stored.set_status(connection, ConnectionStatus.PENDING_AUTH, message)
        return Outcome(connection, False, message, record.redirect_url)
    if not params.get("code"):
        return Outcome(connection, False, f"{kind.name} sent no authorization code.", record.redirect_url)
    config = stored.connection_config(connection)
    data = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": record.callback_url}
    if kind.oauth.pkce:
        data["code_verifier"] = record.code_verifier
    try:
        body = request_token(kind, config, data, deadline=probes.deadline())  # a web request waits
    except (ConnectionFailed, NeedsReconnect) as error:
        message = f"Could not complete the authorization: {stored.without_secrets(str(error), connection)}"
        stored.set_status(connection, ConnectionStatus.PENDING_AUTH, message)
        return Outcome(connection, False, message, record.redirect_url)
    stored.store_tokens(connection.pk, tokens_from(kind, body))
    connection.refresh_from_db()
    return Outcome(connection, True, f"Connected to {kind.name}.", record.redirect_url)


def request_token(kind: ConnectionType, config: dict, data: dict, deadline: float | None = None) -> dict:
    """POST to the provider's token endpoint, done by `deadline` (time.monotonic()) when given.
    A refusal (4xx) raises NeedsReconnect, an unreachable or failing endpoint ConnectionFailed."""
    client_id, client_secret = client_credentials(kind, config)
    auth = None
    if kind.oauth.client_auth == "basic":
        auth = httpx.BasicAuth(client_id, client_secret)
    else:
        data = {**data, "client_id": client_id, "client_secret": client_secret}
    url = endpoint_url(kind, kind.oauth.token, config)
    try:
        with httpx.Client(transport=EgressTransport(), timeout=seconds_until(deadline, TOKEN_TIMEOUT)) as client:
            response = client.post(url, data=data, auth=auth, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise ConnectionFailed(f"Could not reach {kind.name}'s token endpoint: {error}") from None
    if response.status_code in (400, 401, 403):
        raise NeedsReconnect(f"{kind.name} refused the authorization: {provider_words(response)}")
    if response.status_code >= 300:
        raise ConnectionFailed(f"{kind.name}'s token endpoint answered {response.status_code}.")
    try:
        body = response.json()
    except ValueError:
        raise ConnectionFailed(f"{kind.name}'s token endpoint answered with something other than JSON.") from None
    if not body.get("access_token"):
        raise ConnectionFailed(f"{kind.name}'s token endpoint sent no access token.")
    return body


def tokens_from(kind: ConnectionType, body: dict) -> dict:
    tokens = {"oauth_access_token": body["access_token"], "oauth_token_expiry": None}
    if body.get("expires_in"):
        tokens["oauth_token_expiry"] = time.time() + float(body["expires_in"])
    if body.get("refresh_token"):
        tokens["oauth_refresh_token"] = body["refresh_token"]
    for key in kind.oauth.extras:
        if body.get(key):
            tokens[f"oauth_{key}"] = body[key]
    return tokens


def fresh(config: dict) -> bool:
    """Whether the stored access token can still be used for a while."""
    if not config.get("oauth_access_token"):
        return False
    expiry = config.get("oauth_token_expiry")
    return expiry is None or float(expiry) - REFRESH_MARGIN > time.time()


def renew_token(connection: Connection, stale_token: str | None, deadline: float | None = None) -> dict:
    """A usable access token for the connection: the stored one if another worker
    already replaced `stale_token`, otherwise a new one from the provider. One
    renewal at a time per connection (Redis lock + row lock); a web request's probe
    waits for neither past its `deadline`. Returns the merged configuration. A refused
    refresh marks the connection needs_reconnect."""
    kind = stored.connection_type(connection.type)
    if connection._state.adding:  # an unsaved configuration under test
        config = stored.connection_config(connection)
        tokens = tokens_from(kind, request_token(kind, config, grant(kind, config), deadline))
        connection.secrets = {**connection.secrets, **tokens}
        return stored.connection_config(connection)
    owner = stored.holder(connection)  # a shared copy renews its parent's token
    try:
        with renewal_lock(owner.pk, seconds_until(deadline, RENEWAL_WAIT)), transaction.atomic():
            locked = Connection.objects.select_for_update().get(pk=owner.pk)
            config = stored.connection_config(locked)
            if fresh(config) and config["oauth_access_token"] != stale_token:
                return config
            tokens = tokens_from(kind, request_token(kind, config, grant(kind, config), deadline))
            locked.secrets = {**locked.secrets, **tokens}
            locked.save(update_fields=["encrypted_secrets", "updated_at"])
            logger.info("Renewed the OAuth token of connection %s", connection.pk)
            return stored.connection_config(locked)
    except NeedsReconnect as error:
        error.args = (stored.without_secrets(str(error), connection),)
        stored.mark_needs_reconnect(owner.pk, str(error))
        raise


def grant(kind: ConnectionType, config: dict) -> dict:
    if kind.provider.token_grant(config) == "client_credentials":
        return {"grant_type": "client_credentials"}
    if not config.get("oauth_refresh_token"):
        raise NeedsReconnect(f"The {kind.name} authorization has expired and cannot be renewed; reconnect.")
    return {"grant_type": "refresh_token", "refresh_token": config["oauth_refresh_token"]}


def seconds_until(deadline: float | None, longest: float) -> float:
    """What is left until the deadline (at least a second), at most `longest`."""
    if deadline is None:
        return longest
    return max(1.0, min(longest, deadline - time.monotonic()))


@contextmanager
def renewal_lock(connection_id, wait: float = RENEWAL_WAIT):
    """A Redis lock per connection, so that only one process renews (refresh tokens
    may rotate: a second renewal with the old one would be refused)."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)
    lock = client.lock(f"connections:token-renewal:{connection_id}", timeout=60, blocking_timeout=wait)
    try:
        acquired = lock.acquire()
    except redis.RedisError:
        logger.warning("Redis unavailable; renewing the token of %s under the row lock only", connection_id)
        acquired = False
    try:
        yield
    finally:
        if acquired:
            try:
                lock.release()
            except redis.RedisError:
                pass
        client.close()
