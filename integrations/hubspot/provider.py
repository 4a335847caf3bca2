"""HubSpot: OAuth (the default) or a private-app access token. Model-sync target
(contacts, companies, lists) and bulk-sync source."""

from integrations.base import ConfigField
from integrations.connection_types import BearerAuth, Endpoint, OAuthSpec, get, required_when
from integrations.provider import Provider

from . import bulk_source
from .model_source import MODEL_SOURCE
from .targets import TARGETS
from .writer import make_writer

class HubSpot(Provider):
    id = "hubspot"
    name = "HubSpot"
    description = "CRM and marketing: contacts, companies and lists."
    fields = (
        ConfigField("auth_method", "Authentication method", required=True, choices=("oauth", "private_app"),
                    default="oauth"),
        ConfigField("private_app_token", "Private app access token", secret=True,
                    description="Needed when the authentication method is private app."),
        ConfigField("include_static_list_support", "Include static list support", type="boolean", default=False),
        ConfigField("use_search_api", "Use HubSpot incremental API for bulk syncs", type="boolean", default=True),
        ConfigField("hub_user", "HubSpot user", readonly=True),
        ConfigField("hub_domain", "HubSpot domain", readonly=True),
        ConfigField("oauth_refresh_token", "OAuth refresh token", secret=True),
        ConfigField("client_id", "OAuth client id", secret=True),
        ConfigField("client_secret", "OAuth client secret", secret=True),
    )
    hidden = frozenset({"oauth_refresh_token", "client_id", "client_secret"})
    labels = {"auth_method": {"oauth": "OAuth", "private_app": "Private app token"}}
    oauth = OAuthSpec(
        authorize=Endpoint("https://app.hubspot.com/oauth/authorize", "/hubspot/oauth/authorize"),
        token=Endpoint("https://api.hubapi.com/oauth/v1/token", "/hubspot/oauth/v1/token"),
        scopes=("oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.companies.read",
                "crm.objects.companies.write", "crm.objects.deals.read", "crm.lists.read", "crm.lists.write",
                "crm.schemas.contacts.read",
                "crm.schemas.companies.read"),
        pkce=True,  # HubSpot's OAuth spec takes code_verifier on the code exchange
    )
    oauth_when = ("auth_method", "oauth")
    api = Endpoint("https://api.hubapi.com", "/hubspot")
    budget = ((100, 10),)  # 100 per 10 seconds (Free/Starter; 190 on Professional)
    demo_configuration = {"auth_method": "private_app", "private_app_token": "pat-na1-sandbox-private-app"}
    targets = TARGETS
    writer = staticmethod(make_writer)
    source = bulk_source
    model_source = MODEL_SOURCE

    def validate(self, config: dict):
        return required_when(config, "auth_method", "private_app", ("private_app_token",),
                             "is required when auth_method is private_app")

    def static_auth(self, config: dict):
        return BearerAuth(config.get("private_app_token") or "")

    def check(self, session) -> dict:
        get(session, "crm/v3/objects/contacts", "HubSpot", params={"limit": 1})
        return {}

    def sandbox(self):
        from . import sandbox
        return sandbox


PROVIDER = HubSpot()
