"""Connections whose provider is the sandbox, opened the way workers open them:
stored through the console's services, their sessions from provider_session.

    connection = sandbox_connection(organization, "salesloft")          # the sandbox's API key
    connection = sandbox_connection(organization, "linkedinads")        # OAuth, a refresh token the sandbox issued
    session = provider_session(connection)

Needs the database, SANDBOX_URL on the sandbox and the sandbox's egress allowed
(the `sandbox_sessions`-style fixtures do both).
"""

import secrets
import time

from integrations import catalogue, registry

SANDBOX_CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}

OAUTH = {  # what a configuration authorizing through OAuth says besides its refresh token
    "salesloft": {"auth_method": "oauth"},
    "gong": {"auth_method": "oauth"},
    "hubspot": {"auth_method": "oauth"},
    "linkedinads": {},
    "salesforce": {"domain": "acme.my.salesforce.com", "connect_mode": "api", **SANDBOX_CLIENT},
}


def sandbox_name(type_id: str) -> str:
    """The sandbox provider behind a connection type: the first segment of its OAuth token path."""
    return catalogue.get(type_id).oauth.token.sandbox.strip("/").split("/")[0]


def issued_refresh_token(sandbox, type_id: str) -> str:
    """A refresh token the sandbox honours, with every scope it knows, as if a consent had happened."""
    module = sandbox.app.by_name[sandbox_name(type_id)]
    token = secrets.token_urlsafe(24)
    sandbox.app.scope(module).insert("oauth_tokens", {
        "id": token, "kind": "refresh", "client_id": SANDBOX_CLIENT["client_id"], "scope": list(module.OAUTH.scopes),
        "grant": token, "issued_at": time.time(), "expires_at": None, "revoked": False,
    })
    return token


def keys(type_id: str) -> dict | None:
    """A configuration authenticating with a static key the sandbox accepts (the demo's), if any."""
    configuration = registry.get(type_id).demo_configuration
    return dict(configuration) if configuration else None


def credentials(sandbox, type_id: str, auth: str = "") -> dict:
    """A configuration's credentials: auth "keys" or "oauth"; by default keys where the provider has them."""
    if auth == "oauth" or (not auth and keys(type_id) is None):
        return {**OAUTH[type_id], "oauth_refresh_token": issued_refresh_token(sandbox, type_id)}
    return keys(type_id)


def sandbox_connection(organization, type_id: str, configuration: dict | None = None, *, sandbox=None,
                       auth: str = "", name: str = "", save: bool = True):
    """A stored connection of `type_id` (credentials for the sandbox added when one is given;
    unsaved with save=False, as a configuration under test is).

    Stored as given, unchecked: tests of odd configurations need them kept; clean_configuration
    is what checks a submitted one."""
    from console.connections.models import Connection

    kind = catalogue.get(type_id)
    config = {**(credentials(sandbox, type_id, auth) if sandbox is not None else {}), **(configuration or {})}
    secret = {name for name in config if name.startswith("oauth_") or (kind.field(name) and kind.field(name).secret)}
    connection = Connection(organization=organization, name=name or f"Sandbox {type_id}", type=type_id,
                            configuration={k: v for k, v in config.items() if k not in secret})
    connection.secrets = {k: v for k, v in config.items() if k in secret}
    if save:
        connection.save()
    return connection
