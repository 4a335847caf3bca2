"""Salesloft: OAuth (the default) or an API key. Model-sync target (people, accounts, cadences)."""

from integrations.base import ConfigField
from integrations.connection_types import BearerAuth, Endpoint, OAuthSpec, get, required_when
from integrations.provider import Provider

from .targets import TARGETS
from .writer import make_writer

class Salesloft(Provider):
    id = "salesloft"
    name = "Salesloft"
    description = "Sales engagement: people, accounts and cadences."
    fields = (
        ConfigField("auth_method", "Authentication method", required=True, choices=("oauth", "api_key"),
                    default="oauth"),
        ConfigField("api_key", "API key", secret=True,
                    description="Needed when the authentication method is API key."),
        ConfigField("connected_user", "Connected user's email", readonly=True),
        ConfigField("oauth_refresh_token", "OAuth refresh token", secret=True),
        ConfigField("application_id", "OAuth application id", secret=True),
        ConfigField("client_secret", "OAuth client secret", secret=True),
    )
    hidden = frozenset({"oauth_refresh_token", "application_id", "client_secret"})
    labels = {"auth_method": {"oauth": "OAuth", "api_key": "API key"}}
    oauth = OAuthSpec(
        authorize=Endpoint("https://accounts.salesloft.com/oauth/authorize", "/salesloft/oauth/authorize"),
        token=Endpoint("https://accounts.salesloft.com/oauth/token", "/salesloft/oauth/token"),
        client_fields=("application_id", "client_secret"),
    )  # no PKCE: Salesloft's OAuth documentation offers none (code, client secret and redirect_uri only)
    oauth_when = ("auth_method", "oauth")
    api = Endpoint("https://api.salesloft.com/v2", "/salesloft/v2")
    budget = ((600, 60),)  # 600 cost per minute per team
    demo_configuration = {"auth_method": "api_key", "api_key": "sandbox-api-key"}
    targets = TARGETS
    writer = staticmethod(make_writer)

    def validate(self, config: dict):
        return required_when(config, "auth_method", "api_key", ("api_key",),
                             "is required when auth_method is api_key")

    def static_auth(self, config: dict):
        return BearerAuth(config.get("api_key") or "")

    def check(self, session) -> dict:
        """The credentials work; returns the connected user's email."""
        user = get(session, "me", "Salesloft").get("data") or {}
        return {"connected_user": user["email"]} if user.get("email") else {}

    def sandbox(self):
        from . import sandbox
        return sandbox


PROVIDER = Salesloft()
