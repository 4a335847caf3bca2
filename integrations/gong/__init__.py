"""Gong: an access key and secret (the default), or OAuth. Model-sync target (Engage flows).

With OAuth, Gong answers the token request with the customer's own API host
(`api_base_url_for_customer`); API calls go there.
"""

import httpx

from integrations.base import ConfigField
from integrations.connection_types import Capabilities, Endpoint, OAuthSpec, get, required_when

TYPE_ID = "gong"
NAME = "Gong"
DESCRIPTION = "Revenue intelligence: Engage flows and their prospects."

CONFIG_FIELDS = [
    ConfigField("auth_method", "Authentication method", required=True, choices=("token", "oauth"), default="token"),
    ConfigField("access_key", "Access key", description="Needed with access key authentication."),
    ConfigField("access_secret", "Access secret", secret=True),
    ConfigField("subdomain", "Subdomain",
                description="Your Gong subdomain, e.g. company-17 if you reach Gong at https://company-17.app.gong.io"),
    ConfigField("oauth_refresh_token", "OAuth refresh token", secret=True),
    ConfigField("client_id", "OAuth client id", secret=True),
    ConfigField("client_secret", "OAuth client secret", secret=True),
]
HIDDEN = {"oauth_refresh_token", "client_id", "client_secret"}
LABELS = {"auth_method": {"token": "Access key and secret", "oauth": "OAuth"}}
CAPABILITIES = Capabilities(model_sync_target=True, bulk_sync_source=True)

OAUTH = OAuthSpec(
    authorize=Endpoint("https://app.gong.io/oauth2/authorize", "/gong/oauth2/authorize"),
    token=Endpoint("https://app.gong.io/oauth2/generate-customer-token", "/gong/oauth2/generate-customer-token"),
    scopes=("api:flows:read", "api:flows:write", "api:users:read"),
    client_auth="basic",
    extras=("api_base_url_for_customer",),
)  # no PKCE: Gong's app documentation offers none (Basic client secret on the token call)
API = Endpoint("https://api.gong.io", "/gong")


def uses_oauth(config: dict) -> bool:
    return config.get("auth_method", "token") == "oauth"


def validate(config: dict):
    return required_when(config, "auth_method", "token", ("access_key", "access_secret"),
                         "is required when auth_method is token")


def api_url(config: dict, sandbox_url: str = "") -> str:
    if uses_oauth(config) and config.get("oauth_api_base_url_for_customer"):
        return config["oauth_api_base_url_for_customer"]
    return API.url(sandbox_url)


def static_auth(config: dict):
    return httpx.BasicAuth(config.get("access_key") or "", config.get("access_secret") or "")


def check(session) -> dict:
    get(session, "v2/users", "Gong")
    return {}
