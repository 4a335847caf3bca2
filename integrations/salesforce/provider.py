"""Salesforce: OAuth in the browser (the default), a refresh token handed over by an API
caller (`api`), or the client-credentials flow. Model-sync target and bulk-sync source.

API calls go to the instance URL Salesforce names in its token response, unless the
read-only `instance_url_override` says otherwise.
"""

from integrations.base import ConfigField
from integrations.connection_types import Endpoint, OAuthSpec, get
from integrations.provider import Provider

from . import bulk_source
from .model_source import MODEL_SOURCE
from .targets import TARGETS
from .writer import make_writer

API_VERSION = "v62.0"


def domain(config: dict) -> str:
    """acmecorp.my.salesforce.com, whether given with a scheme or a trailing slash or not."""
    value = str(config.get("domain") or "").strip()
    value = value.split("://", 1)[-1]
    return value.split("/", 1)[0]


class Salesforce(Provider):
    id = "salesforce"
    name = "Salesforce"
    description = "CRM: leads, contacts, accounts and custom objects."
    fields = (
        ConfigField("domain", "Domain", required=True, address="host",
                    description="The Salesforce instance's login domain, e.g. acmecorp.my.salesforce.com"),
        ConfigField("connect_mode", "Authentication method", required=True,
                    choices=("browser", "clientcredentials", "api"), default="browser",
                    refused=(("code", ("the device-code flow needs the console to poll Salesforce until someone "
                                       "enters the code elsewhere, which it does not do; browser signs in through "
                                       "a popup instead")),),
                    description="browser: OAuth through the console. api: hand over client_id, client_secret and "
                                "oauth_refresh_token. clientcredentials: client_id and client_secret."),
        ConfigField("client_id", "Client ID", secret=True,
                    description="Required when connect_mode is clientcredentials or api."),
        ConfigField("client_secret", "Client secret", secret=True,
                    description="Required when connect_mode is clientcredentials or api."),
        ConfigField("oauth_refresh_token", "OAuth refresh token", secret=True),
        ConfigField("daily_api_calls", "Daily call limit", type="integer",
                    description="The daily Salesforce API call cap the console should adhere to."),
        ConfigField("enforce_api_limits", "Enforce API limits", type="boolean", default=False,
                    description="Restrict the console to a fixed daily cap of API calls (daily_api_calls)."),
        ConfigField("enable_tooling", "Enable support for Tooling API", type="boolean", default=False,
                    description="Not supported: only false is accepted (bulk syncs list the data API's objects)."),
        ConfigField("enable_multicurrency_lookup", "Enable multicurrency source field support", type="boolean",
                    default=False,
                    description="Not supported: only false is accepted (bulk syncs read formula fields in full)."),
        ConfigField("instance_url_override", "Instance URL override", readonly=True,
                    description="Used for API requests instead of the instance URL Salesforce gives during OAuth."),
        ConfigField("username", "Salesforce user", readonly=True),
    )
    hidden = frozenset({"oauth_refresh_token", "enable_tooling", "enable_multicurrency_lookup"})
    labels = {"connect_mode": {"browser": "OAuth in the browser", "clientcredentials": "Client credentials",
                               "api": "Refresh token (API)"}}
    oauth = OAuthSpec(
        authorize=Endpoint("https://{domain}/services/oauth2/authorize", "/salesforce/services/oauth2/authorize"),
        token=Endpoint("https://{domain}/services/oauth2/token", "/salesforce/services/oauth2/token"),
        scopes=("api", "refresh_token"),
        pkce=True,
        extras=("instance_url", "id"),  # id: the identity URL, which names the user
    )
    budget = ((100_000, 86_400),)  # rolling 24 h org limit (edition-dependent)
    targets = TARGETS
    writer = staticmethod(make_writer)
    source = bulk_source
    model_source = MODEL_SOURCE

    def url_values(self, config: dict) -> dict:
        return {"domain": domain(config)}

    def needs_browser(self, config: dict) -> bool:
        return config.get("connect_mode", "browser") in ("browser", "code") and not config.get("oauth_refresh_token")

    def token_grant(self, config: dict) -> str:
        return "client_credentials" if config.get("connect_mode") == "clientcredentials" else "refresh_token"

    def validate(self, config: dict):
        problems = []
        mode = config.get("connect_mode", "browser")
        if mode in ("api", "clientcredentials"):
            needed = ("client_id", "client_secret") + (("oauth_refresh_token",) if mode == "api" else ())
            problems += [(name, f"is required when connect_mode is {mode}") for name in needed if not config.get(name)]
        if config.get("enforce_api_limits") and not config.get("daily_api_calls"):
            problems.append(("daily_api_calls", "must be set when enforce_api_limits is true"))
        if config.get("daily_api_calls") is not None and config["daily_api_calls"] < 0:
            problems.append(("daily_api_calls", "must not be negative"))
        if not domain(config) and config.get("domain"):
            problems.append(("domain", "is not a domain name"))
        if config.get("enable_tooling"):
            problems.append(("enable_tooling", ("true is not supported: bulk syncs list only the data API's "
                                                "objects, not the Tooling API's; leave it false")))
        if config.get("enable_multicurrency_lookup"):
            problems.append(("enable_multicurrency_lookup", ("true is not supported: bulk syncs read formula "
                                                             "fields in full, never incrementally; leave it false")))
        return problems

    def api_url(self, config: dict, sandbox_url: str = "") -> str:
        instance = config.get("instance_url_override") or config.get("oauth_instance_url")
        if not instance:
            instance = f"{sandbox_url.rstrip('/')}/salesforce" if sandbox_url else f"https://{domain(config)}"
        return f"{instance.rstrip('/')}/services/data/{API_VERSION}"

    def check(self, session) -> dict:
        """The user and the instance from the identity URL of the token, when Salesforce gave one."""
        identity = session.config.get("oauth_id")
        if not identity:
            get(session, "sobjects", "Salesforce")
            return {}
        who = get(session, identity, "Salesforce's identity service")
        rest = str((who.get("urls") or {}).get("rest") or "")
        instance = rest.split("/services/", 1)[0] if "/services/" in rest else ""
        get(session, f"{instance}/services/data/{API_VERSION}/sobjects" if instance else "sobjects", "Salesforce")
        return {"username": who.get("username"), "instance_url_override": instance}

    def sandbox(self):
        from . import sandbox
        return sandbox


PROVIDER = Salesforce()
