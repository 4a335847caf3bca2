"""Gong: an access key and secret (the default), or OAuth. Model-sync target (Engage flows).

With OAuth, Gong answers the token request with the customer's own API host
(`api_base_url_for_customer`); API calls go there.
"""

import httpx

from integrations.base import ConfigField
from integrations.connection_types import Endpoint, OAuthSpec, get, required_when
from integrations.provider import Provider

from .targets import TARGETS
from .writer import make_writer

class Gong(Provider):
    id = "gong"
    name = "Gong"
    description = "Revenue intelligence: Engage flows and their prospects."
    fields = (
        ConfigField("auth_method", "Authentication method", required=True, choices=("token", "oauth"),
                    default="token"),
        ConfigField("access_key", "Access key", description="Needed with access key authentication."),
        ConfigField("access_secret", "Access secret", secret=True),
        ConfigField("subdomain", "Subdomain",
                    description="Your Gong subdomain, e.g. company-17 if you reach Gong at "
                                "https://company-17.app.gong.io"),
        ConfigField("oauth_refresh_token", "OAuth refresh token", secret=True),
        ConfigField("client_id", "OAuth client id", secret=True),
        ConfigField("client_secret", "OAuth client secret", secret=True),
    )
    hidden = frozenset({"oauth_refresh_token", "client_id", "client_secret"})
    labels = {"auth_method": {"token": "Access key and secret", "oauth": "OAuth"}}
    oauth = OAuthSpec(
        authorize=Endpoint("https://app.gong.io/oauth2/authorize", "/gong/oauth2/authorize"),
        token=Endpoint("https://app.gong.io/oauth2/generate-customer-token", "/gong/oauth2/generate-customer-token"),
        scopes=("api:flows:read", "api:flows:write", "api:users:read"),
        client_auth="basic",
        extras=("api_base_url_for_customer",),
    )  # no PKCE: Gong's app documentation offers none (Basic client secret on the token call)
    oauth_when = ("auth_method", "oauth")
    api = Endpoint("https://api.gong.io", "/gong")
    budget = ((3, 1), (10_000, 86_400))  # 3 requests a second, 10,000 a day
    demo_configuration = {"auth_method": "token", "access_key": "sandbox-access-key",
                          "access_secret": "sandbox-access-secret"}
    targets = TARGETS
    writer = staticmethod(make_writer)

    def validate(self, config: dict):
        return required_when(config, "auth_method", "token", ("access_key", "access_secret"),
                             "is required when auth_method is token")

    def api_url(self, config: dict, sandbox_url: str = "") -> str:
        if self.uses_oauth(config) and config.get("oauth_api_base_url_for_customer"):
            return config["oauth_api_base_url_for_customer"]
        return self.api.url(sandbox_url)

    def static_auth(self, config: dict):
        return httpx.BasicAuth(config.get("access_key") or "", config.get("access_secret") or "")

    def check(self, session) -> dict:
        get(session, "v2/users", "Gong")
        return {}

    def sandbox(self):
        from . import sandbox
        return sandbox


PROVIDER = Gong()
