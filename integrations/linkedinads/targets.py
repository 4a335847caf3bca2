"""LinkedIn Ads targets: every Matched Audience (DMP segment) of the connection's ad accounts.

Object id (Polytomic's composite): "<account id>::<account reference>~<type>.<segment id>",
e.g. "512630692::urn:li:organization:28818517~company_audience.29728356", where type is
"user_audience" or "company_audience". A sync can also create a new audience from
the creation properties account ("<account id>::<reference>"), type and name.
Audiences only take members in and out: modes create (add) and remove.
"""

from integrations.base import ARRAY, STRING, CreationProperty, TargetField, TargetObject
from integrations.provider import Creation, Targets
from integrations.targets import get_json, mode

LABEL = "LinkedIn Ads"
API_VERSION = "202604"
PAGE_SIZE = 100

AUDIENCE_TYPES = {"user_audience": "User Audience", "company_audience": "Company Audience"}
SEGMENT_TYPES = {"user_audience": "USER", "company_audience": "COMPANY"}

CREATION = [
    CreationProperty("account", "LinkedIn Ads account ID", enum=True),
    CreationProperty("type", "Audience type", enum=True),
    CreationProperty("name", "Audience name", enum=False),
]

# Target field id -> the attribute LinkedIn's segment members API takes.
USER_FIELDS = {
    "Email": "SHA256_EMAIL",
    "FirstName": "firstName",
    "LastName": "lastName",
    "Title": "title",
    "Company": "company",
    "Country": "country",
    "GoogleAdvertisingId": "GOOGLE_AID",
}
COMPANY_FIELDS = {
    "CompanyName": "companyName",
    "CompanyDomain": "companyWebsiteDomain",
    "Email": "companyEmailDomain",
    "EmailDomain": "companyEmailDomain",
    "CompanyPageUrl": "companyPageUrl",
    "OrganizationUrn": "organizationUrn",
    "StockSymbol": "stockSymbol",
    "Industries": "industries",
    "City": "city",
    "State": "state",
    "Country": "country",
    "PostalCode": "postalCode",
}

FIELD_INFO = {
    "Email": ("Email", "Hashed (SHA-256) before it leaves the console."),
    "FirstName": ("First name", ""),
    "LastName": ("Last name", ""),
    "Title": ("Job title", ""),
    "Company": ("Company name", ""),
    "Country": ("Country", "ISO 3166-1 alpha-2 code, e.g. US."),
    "GoogleAdvertisingId": ("Google advertising id", ""),
    "CompanyName": ("Company name", ""),
    "CompanyDomain": ("Company website domain", "e.g. example.com"),
    "EmailDomain": ("Company email domain", "e.g. example.com"),
    "CompanyPageUrl": ("LinkedIn company page URL", ""),
    "OrganizationUrn": ("LinkedIn organization URN", "urn:li:organization:..."),
    "StockSymbol": ("Stock symbol", ""),
    "Industries": ("Industries", "Up to three."),
    "City": ("City", ""),
    "State": ("State", ""),
    "PostalCode": ("Postal code", ""),
}

IDENTITIES = {"Email", "GoogleAdvertisingId", "CompanyName", "CompanyDomain", "EmailDomain",
              "CompanyPageUrl", "OrganizationUrn"}


def audience_modes():
    return (
        mode("create", requires_identity=False, description="Add the model's rows to the audience."),
        mode("remove", requires_identity=False, description="Take the model's rows out of the audience."),
    )


def headers(session) -> dict:
    sent = {"X-Restli-Protocol-Version": "2.0.0"}
    if "LinkedIn-Version" not in session.http.headers:
        sent["LinkedIn-Version"] = API_VERSION
    return sent


def paged(session, path, params):
    start = 0
    while True:
        body = get_json(session, path, params={**params, "start": start, "count": PAGE_SIZE},
                        headers=headers(session))
        elements = body.get("elements") or []
        yield from elements
        total = (body.get("paging") or {}).get("total")
        start += len(elements)
        if not elements or len(elements) < PAGE_SIZE or (total is not None and start >= total):
            return


def ad_accounts(session) -> list[dict]:
    """The ad accounts whose audiences the connection can manage: a role other than VIEWER,
    and among the accounts the connection was set to use, if it names any."""
    writable = {
        str(role["account"]).rsplit(":", 1)[-1]
        for role in paged(session, "adAccountUsers", {"q": "authenticatedUser"})
        if role.get("role") != "VIEWER"
    }
    accounts = [a for a in paged(session, "adAccounts", {"q": "search"}) if str(a["id"]) in writable]
    chosen = {str(a).split("::")[0].rsplit(":", 1)[-1] for a in session.config.get("accounts") or []}
    if chosen:
        accounts = [a for a in accounts if str(a["id"]) in chosen]
    return accounts


def account_value(account: dict) -> str:
    return f"{account['id']}::{account.get('reference') or ''}"


def property_values(session, property_id):
    if property_id == "account":
        return [(account_value(a), f"{a.get('name') or a['id']} ({a['id']})") for a in ad_accounts(session)]
    if property_id == "type":
        return list(AUDIENCE_TYPES.items())
    return []


def objects(session):
    found = []
    for account in ad_accounts(session):
        urn = f"urn:li:sponsoredAccount:{account['id']}"
        for segment in paged(session, "dmpSegments", {"q": "account", "account": urn}):
            if segment.get("status") == "ARCHIVED":
                continue
            kind = "company_audience" if str(segment.get("type", "")).startswith("COMPANY") else "user_audience"
            found.append(TargetObject(
                id=f"{account_value(account)}~{kind}.{segment['id']}",
                name=f"{AUDIENCE_TYPES[kind]}: {segment.get('name') or segment['id']}",
                modes=audience_modes(),
            ))
    return found


def parse_object_id(object_id: str) -> dict:
    """"512630692::urn:li:organization:1~user_audience.42" -> account, reference, type, segment id."""
    account_part, _, audience = object_id.partition("~")
    kind, _, segment_id = audience.partition(".")
    account_id, _, reference = account_part.partition("::")
    if not (account_id and kind in AUDIENCE_TYPES and segment_id):
        raise KeyError(object_id)
    return {"account_id": account_id, "reference": reference, "type": kind, "segment_id": segment_id}


def audience_type(object_id, properties) -> str:
    if properties:
        kind = properties.get("type")
        kind = kind[0] if isinstance(kind, list) else kind
        if kind not in AUDIENCE_TYPES:
            raise KeyError(kind)
        return kind
    return parse_object_id(object_id or "")["type"]


def fields(session, object_id, properties=None):
    kind = audience_type(object_id, properties)
    names = USER_FIELDS if kind == "user_audience" else COMPANY_FIELDS
    return [
        TargetField(
            id=field_id,
            name=FIELD_INFO[field_id][0],
            type=ARRAY if field_id == "Industries" else STRING,
            identity=field_id in IDENTITIES,
            description=FIELD_INFO[field_id][1],
        )
        for field_id in names
    ]


def new_target(properties):
    kind = audience_type(None, properties)
    name = properties.get("name")
    name = name[0] if isinstance(name, list) else name
    return TargetObject(f"new:{kind}", f"{AUDIENCE_TYPES[kind]}: {name or 'new audience'}", audience_modes())


def sentence(obj, mode_id, identity):
    name = obj.name.split(": ", 1)[-1]
    kind = "companies" if obj.name.startswith("Company") else "people"
    matched = f" matched on {identity}" if identity else ""
    if mode_id == "remove":
        return f"Remove {kind}{matched} from the LinkedIn audience {name}"
    return f"Add {kind}{matched} to the LinkedIn audience {name}"


TARGETS = Targets(label=LABEL, objects=objects, fields=fields, sentence=sentence,
                  creation=Creation(CREATION, property_values, new_target))
