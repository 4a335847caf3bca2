"""LinkedIn Ads: OAuth only. Model-sync target (matched audiences of the chosen ad accounts).

`accounts` holds the ad accounts the connection works with, as
urn:li:sponsoredAccount:<id> strings; `parameter_values` lists the choices.
"""

from integrations.base import ConfigField
from integrations.connection_types import Endpoint, OAuthSpec, get
from integrations.provider import Provider

from .targets import API_VERSION, TARGETS
from .writer import make_writer

HEADERS = {"LinkedIn-Version": API_VERSION, "X-Restli-Protocol-Version": "2.0.0"}
ACCOUNT_URN = "urn:li:sponsoredAccount:"
PAGE_SIZE = 100


def clean_accounts(value) -> list[str]:
    """Accounts as URN strings, from strings or Polytomic's {"value", "label"} objects."""
    cleaned = []
    for item in value or []:
        if isinstance(item, dict):
            item = item.get("value")
        if item in (None, ""):
            continue
        item = str(item)
        cleaned.append(item if item.startswith("urn:") else ACCOUNT_URN + item)
    return cleaned


class LinkedInAds(Provider):
    id = "linkedinads"
    name = "LinkedIn Ads"
    description = "Matched audiences (DMP segments) in your ad accounts."
    fields = (
        ConfigField("accounts", "Ad accounts", type="array",
                    description="The ad accounts this connection manages audiences in. Empty: all of them."),
        ConfigField("connected_user", "Connected user", readonly=True),
        ConfigField("oauth_refresh_token", "OAuth refresh token", secret=True),
        ConfigField("client_id", "OAuth client id", secret=True),
        ConfigField("client_secret", "OAuth client secret", secret=True),
    )
    hidden = frozenset({"oauth_refresh_token", "client_id", "client_secret"})
    parameter_fields = ("accounts",)
    oauth = OAuthSpec(
        authorize=Endpoint("https://www.linkedin.com/oauth/v2/authorization", "/linkedin/oauth/v2/authorization"),
        token=Endpoint("https://www.linkedin.com/oauth/v2/accessToken", "/linkedin/oauth/v2/accessToken"),
        scopes=("r_ads", "rw_ads", "rw_dmp_segments"),
    )  # no PKCE: LinkedIn's 3-legged flow for web apps documents none (client secret on the token call)
    api = Endpoint("https://api.linkedin.com/rest", "/linkedin/rest")
    budget = ((300, 60),)  # DMP company streaming 300 a minute; user streaming 600
    targets = TARGETS
    writer = staticmethod(make_writer)

    def normalize(self, config: dict) -> dict:
        if "accounts" in config:
            config["accounts"] = clean_accounts(config["accounts"])
        return config

    def check(self, session) -> dict:
        get(session, "adAccountUsers", "LinkedIn", params={"q": "authenticatedUser"}, headers=HEADERS)
        return {}

    def parameter_values(self, session) -> dict:
        """{"accounts": [(value, label), ...]}: every ad account the connected member can reach."""
        values, start = [], 0
        while True:
            body = get(session, "adAccounts", "LinkedIn", headers=HEADERS,
                       params={"q": "search", "start": start, "count": PAGE_SIZE})
            elements = body.get("elements") or []
            for account in elements:
                label = f"{account.get('name') or account['id']} ({account['id']})"
                values.append((f"{ACCOUNT_URN}{account['id']}", label))
            start += len(elements)
            total = (body.get("paging") or {}).get("total")
            if len(elements) < PAGE_SIZE or (total is not None and start >= total):
                return {"accounts": values}

    def sandbox(self):
        from . import sandbox
        return sandbox


PROVIDER = LinkedInAds()
