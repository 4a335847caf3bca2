"""Salesloft: OAuth (the default) or an API key. Model-sync target (people, accounts, cadences)."""

from integrations.base import ConfigField
from integrations.connection_types import BearerAuth, Capabilities, Endpoint, OAuthSpec, get, required_when

TYPE_ID = "salesloft"
NAME = "Salesloft"
DESCRIPTION = "Sales engagement: people, accounts and cadences."

CONFIG_FIELDS = [
    ConfigField("auth_method", "Authentication method", required=True, choices=("oauth", "api_key"),
                default="oauth"),
    ConfigField("api_key", "API key", secret=True, description="Needed when the authentication method is API key."),
    ConfigField("connected_user", "Connected user's email", readonly=True),
    ConfigField("oauth_refresh_token", "OAuth refresh token", secret=True),
    ConfigField("application_id", "OAuth application id", secret=True),
    ConfigField("client_secret", "OAuth client secret", secret=True),
]
HIDDEN = {"oauth_refresh_token", "application_id", "client_secret"}
LABELS = {"auth_method": {"oauth": "OAuth", "api_key": "API key"}}
CAPABILITIES = Capabilities(model_sync_target=True, bulk_sync_source=True)

OAUTH = OAuthSpec(
    authorize=Endpoint("https://accounts.salesloft.com/oauth/authorize", "/salesloft/oauth/authorize"),
    token=Endpoint("https://accounts.salesloft.com/oauth/token", "/salesloft/oauth/token"),
    client_fields=("application_id", "client_secret"),
)  # no PKCE: Salesloft's OAuth documentation offers none (code, client secret and redirect_uri only)
API = Endpoint("https://api.salesloft.com/v2", "/salesloft/v2")


def uses_oauth(config: dict) -> bool:
    return config.get("auth_method", "oauth") == "oauth"


def validate(config: dict):
    return required_when(config, "auth_method", "api_key", ("api_key",), "is required when auth_method is api_key")


def api_url(config: dict, sandbox_url: str = "") -> str:
    return API.url(sandbox_url)


def static_auth(config: dict):
    return BearerAuth(config.get("api_key") or "")


def check(session) -> dict:
    """The credentials work; returns the connected user's email."""
    user = get(session, "me", "Salesloft").get("data") or {}
    return {"connected_user": user["email"]} if user.get("email") else {}
