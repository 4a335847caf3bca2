"""An access token the sandbox accepts, for tests that call a provider's API themselves.
Connectors' sessions come from provider_session (tests/sandbox/connections.py)."""

import secrets
import time


def access_token(sandbox, provider, scopes) -> str:
    """An access token the sandbox provider accepts, as if an OAuth consent had happened."""
    token = secrets.token_urlsafe(24)
    sandbox.state.scoped(provider).insert("oauth_tokens", {
        "id": token, "kind": "access", "client_id": "sandbox-client", "scope": scopes, "grant": token,
        "issued_at": time.time(), "expires_at": time.time() + 3600, "revoked": False,
    })
    return token
