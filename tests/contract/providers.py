"""What the contract suite knows of each provider: which providers there are (one helper),
and per provider the sandbox data its contract runs on.

A Case names configurations the spec accepts and refuses, wrong credentials with the words
the provider refuses them in, objects and fields discovery must list, the writes that
exercise every mode of the written objects, and the bulk-source object to stream (if any).
"""

from dataclasses import dataclass, field

from integrations import registry


def provider_ids() -> list[str]:
    """Every provider the registry finds: the contract suite runs over these."""
    return [provider.id for provider in registry.providers()]


@dataclass(frozen=True)
class Write:
    """One writer call: `records` as (identity, fields); `actions` the outcome of each ("" for
    sent where the target says no more), "!words" for a record refused in those words; `held`
    the identities the target holds after, `gone` those it no longer holds."""

    object_id: str
    mode: str
    records: tuple
    actions: tuple
    identity_field: str | None = None
    configuration: dict = field(default_factory=dict)
    held: frozenset = frozenset()
    gone: frozenset = frozenset()


@dataclass(frozen=True)
class Case:
    good: dict  # accepted by the spec (beside credentials)
    bad: dict  # refused by the spec, naming `bad_field`
    bad_field: str
    wrong_credentials: dict  # a configuration the provider refuses when checked
    refusal: str  # the provider's words in that refusal
    objects: frozenset  # target objects discovery lists (at least these)
    fields: tuple  # (object id, {field ids it has})
    writes: tuple
    held: dict = field(default_factory=dict)  # object id -> f(inspector) -> identities it holds
    source: str | None = None  # a bulk-source object to stream
    models: tuple = ()  # model-source configurations that read rows
    bad_model: tuple = ()  # (a model-source configuration naming what the source lacks, the key named)
    unquoted: str = ""  # words of the refusal's body the message must not quote (HTTP API: any host's)
    target_ids: bool = True  # records written get the target's id (an audience's members have none)
    settings: dict = field(default_factory=dict)  # sandbox settings the writes need


def on_cadence(cadence_id):
    def held(inspector):
        emails = {p["id"]: p["email_address"].lower() for p in inspector.docs("salesloft", "people")}
        return {emails[m["person_id"]] for m in inspector.docs("salesloft", "cadence_memberships")
                if m["cadence_id"] == cadence_id and m["currently_on_cadence"]}
    return held


def salesloft_people(inspector):
    return {p["email_address"].lower() for p in inspector.docs("salesloft", "people") if p["email_address"]}


def salesloft_accounts(inspector):
    return {a["domain"] for a in inspector.docs("salesloft", "accounts") if a["domain"]}


def salesloft_activities(collection):
    def held(inspector):
        emails = {p["id"]: p["email_address"] for p in inspector.docs("salesloft", "people")}
        return {emails.get(d.get("person_id")) for d in inspector.docs("salesloft", collection)}
    return held


GONG_FLOW = "1695493301223590792"
GONG_PROSPECTS = ("0035g00000SBX001AA", "0035g00000SBX002AA", "00Q5g00000SBX001AA")


def in_gong_flow(inspector):
    return {i["crmProspectId"] for i in inspector.docs("gong", "flow_instances")
            if i["flowId"] == GONG_FLOW and i["_active"]}


LINKEDIN_AUDIENCE = "512630692::urn:li:organization:28818517~user_audience.10700"


def in_linkedin_audience(inspector):
    return {m["key"] for m in inspector.docs("linkedin", "segment_members") if m["segment"] == 10700}


def salesforce_contacts(inspector):
    return {d["Email"].lower() for d in inspector.docs("salesforce", "Contact") if d.get("Email") and not d["IsDeleted"]}


def hubspot_contacts(inspector):
    return {d["properties"].get("email") for d in inspector.docs("hubspot", "contacts")}


def hubspot_list_members(inspector):
    emails = {str(d["id"]): d["properties"].get("email") for d in inspector.docs("hubspot", "contacts")}
    return {emails.get(str(m["recordId"])) for m in inspector.docs("hubspot", "list_members")}


def webhook_bodies(inspector):
    return {(r["body"] or {}).get("email") for r in inspector.docs("webhook", "requests") if isinstance(r["body"], dict)}


def people(*emails, **fields):
    return tuple((email, {"Email": email, **fields}) for email in emails)


BULK_PEOPLE = tuple(f"bulk{n}@contract.example" for n in range(60))

CASES: dict[str, Case] = {
    "salesloft": Case(
        good={"auth_method": "api_key", "api_key": "k"},
        bad={"auth_method": "api_key"}, bad_field="configuration.api_key",
        wrong_credentials={"auth_method": "api_key", "api_key": "not-a-key"},
        refusal="The access token is invalid",
        objects=frozenset({"people", "accounts", "cadence:11", "activity:call", "activity:email", "activity:note",
                           "account_redaction"}),
        fields=("people", {"Email", "FirstName", "LastName"}),
        held={"people": salesloft_people, "cadence:11": on_cadence(11), "accounts": salesloft_accounts,
              "account_redaction": salesloft_accounts, "activity:call": salesloft_activities("calls"),
              "activity:note": salesloft_activities("notes"), "activity:email": salesloft_activities("emails")},
        writes=(
            Write("people", "create", people("ann@contract.example", FirstName="Ann"), ("inserted",), "Email",
                  held=frozenset({"ann@contract.example"})),
            Write("people", "update", people("ann@contract.example", FirstName="Anna"), ("updated",), "Email"),
            Write("people", "updateOrCreate", people("ann@contract.example", "bo@contract.example", FirstName="B"),
                  ("updated", "inserted"), "Email", held=frozenset({"ann@contract.example", "bo@contract.example"})),
            Write("cadence:11", "updateOrCreate", people("cy@contract.example", FirstName="Cy"), ("inserted",),
                  "Email", held=frozenset({"cy@contract.example"})),
            Write("cadence:11", "update", people("cy@contract.example", FirstName="Cyd"), ("updated",), "Email",
                  held=frozenset({"cy@contract.example"})),
            Write("cadence:11", "remove", people("cy@contract.example"), ("removed",), "Email",
                  gone=frozenset({"cy@contract.example"})),
            Write("people", "updateOrCreate", people(*BULK_PEOPLE), ("inserted",) * len(BULK_PEOPLE), "Email",
                  held=frozenset(BULK_PEOPLE)),  # enough for a bulk job
            Write("activity:call", "create", (("ann@contract.example", {"PersonEmail": "ann@contract.example",
                                                                        "Note": "Intro call", "Duration": 90}),
                                              ("zed@contract.example", {"PersonEmail": "zed@contract.example"})),
                  ("inserted", "!No Salesloft person has the email"), "PersonEmail",
                  held=frozenset({"ann@contract.example"})),
            Write("activity:note", "create", (("bo@contract.example", {"PersonEmail": "bo@contract.example",
                                                                       "Note": "Prefers email"}),),
                  ("inserted",), "PersonEmail", held=frozenset({"bo@contract.example"})),
            Write("activity:email", "create", (("bo@contract.example", {"PersonEmail": "bo@contract.example",
                                                                        "Subject": "Hello", "Note": "Hi Bo"}),),
                  ("inserted",), "PersonEmail", held=frozenset({"bo@contract.example"})),
            Write("accounts", "create", (("acme.contract", {"Domain": "acme.contract", "Name": "Acme"}),),
                  ("inserted",), "Domain", held=frozenset({"acme.contract"})),
            Write("accounts", "update", (("acme.contract", {"Domain": "acme.contract", "Industry": "Rockets"}),),
                  ("updated",), "Domain"),
            Write("accounts", "updateOrCreate", (("acme.contract", {"Domain": "acme.contract", "Name": "Acme"}),
                                                 ("globex.contract", {"Domain": "globex.contract", "Name": "G"})),
                  ("updated", "inserted"), "Domain", held=frozenset({"acme.contract", "globex.contract"})),
            Write("accounts", "remove", (("globex.contract", {"Domain": "globex.contract"}),), ("removed",),
                  "Domain", gone=frozenset({"globex.contract"})),
            Write("account_redaction", "remove", (("acme.contract", {"Domain": "acme.contract"}),), ("removed",),
                  "Domain", configuration={"confirm_redaction": "REDACT"}, gone=frozenset({"acme.contract"})),
        ),
        settings={"salesloft_bulk_seconds": 0},
    ),
    "gong": Case(
        good={"auth_method": "token", "access_key": "k", "access_secret": "s"},
        bad={"auth_method": "token", "access_key": "k"}, bad_field="configuration.access_secret",
        wrong_credentials={"auth_method": "token", "access_key": "nobody", "access_secret": "wrong"},
        refusal="Invalid authorization credentials",
        objects=frozenset({GONG_FLOW}),
        fields=(GONG_FLOW, {"Id"}),
        held={GONG_FLOW: in_gong_flow},
        writes=(
            Write(GONG_FLOW, "create", ((GONG_PROSPECTS[0], {"Id": GONG_PROSPECTS[0]}),
                                        ("0035g00000NOPE99AA", {"Id": "0035g00000NOPE99AA"})),
                  ("inserted", "!Invalid crmId 0035g00000NOPE99AA"), "Id", held=frozenset({GONG_PROSPECTS[0]})),
            Write(GONG_FLOW, "updateOrCreate", ((GONG_PROSPECTS[0], {"Id": GONG_PROSPECTS[0]}),
                                                (GONG_PROSPECTS[1], {"Id": GONG_PROSPECTS[1]})),
                  ("unchanged", "inserted"), "Id", held=frozenset(GONG_PROSPECTS[:2])),
            Write(GONG_FLOW, "remove", ((GONG_PROSPECTS[0], {"Id": GONG_PROSPECTS[0]}),), ("removed",), "Id",
                  gone=frozenset({GONG_PROSPECTS[0]})),
        ),
    ),
    "linkedinads": Case(
        good={"accounts": ["urn:li:sponsoredAccount:512630692"]},
        bad={"accounts": "512630692"}, bad_field="configuration.accounts",
        wrong_credentials={"oauth_refresh_token": "not-a-token"},
        refusal="The refresh token is invalid.",
        objects=frozenset({LINKEDIN_AUDIENCE}),
        fields=(LINKEDIN_AUDIENCE, {"Email"}),
        held={LINKEDIN_AUDIENCE: in_linkedin_audience}, target_ids=False,
        writes=(
            Write(LINKEDIN_AUDIENCE, "create", people("dee@contract.example", "", FirstName="Only"),
                  ("inserted", "!userIds or firstName and lastName are required"), "Email"),
            Write(LINKEDIN_AUDIENCE, "remove", people("dee@contract.example"), ("removed",), "Email"),
        ),
    ),
    "salesforce": Case(
        good={"domain": "acme.my.salesforce.com", "connect_mode": "browser"},
        bad={"domain": "acme.my.salesforce.com", "connect_mode": "api", "client_id": "c"},
        bad_field="configuration.client_secret",
        wrong_credentials={"domain": "acme.my.salesforce.com", "connect_mode": "api", "client_id": "sandbox-client",
                           "client_secret": "sandbox-secret", "oauth_refresh_token": "not-a-token"},
        refusal="expired access/refresh token",
        objects=frozenset({"Contact", "Lead", "Account"}),
        fields=("Contact", {"Email", "LastName"}),
        held={"Contact": salesforce_contacts},
        settings={"salesforce_bulk_seconds": 0},
        writes=(
            Write("Contact", "create", people("eve@contract.example", LastName="Eve"), ("inserted",), "Email",
                  {"ingestion_api": "rest"}, held=frozenset({"eve@contract.example"})),
            Write("Contact", "update", people("eve@contract.example", LastName="Evans"), ("updated",), "Email",
                  {"ingestion_api": "rest"}),
            Write("Contact", "updateOrCreate", people("eve@contract.example", "fay@contract.example", LastName="F")
                  + people("nolast@contract.example"),
                  ("updated", "inserted", "!REQUIRED_FIELD_MISSING"), "Email", {"ingestion_api": "bulk"},
                  held=frozenset({"eve@contract.example", "fay@contract.example"})),
            Write("Contact", "remove", people("fay@contract.example"), ("removed",), "Email", {"ingestion_api": "rest"},
                  gone=frozenset({"fay@contract.example"})),
        ),
        source="Contact",
        models=({"table": "Contact"}, {"query": "SELECT Id, Email, Status, IsConverted FROM Lead", "include_deleted": True}),
        bad_model=({"table": "Starship__c"}, "table"),
    ),
    "hubspot": Case(
        good={"auth_method": "private_app", "private_app_token": "t"},
        bad={"auth_method": "private_app"}, bad_field="configuration.private_app_token",
        wrong_credentials={"auth_method": "private_app", "private_app_token": "not-a-token"},
        refusal="The OAuth token used to make this call is invalid.",
        objects=frozenset({"contacts", "companies", "list:1"}),
        fields=("contacts", {"email", "firstname"}),
        held={"contacts": hubspot_contacts, "list:1": hubspot_list_members},
        writes=(
            Write("contacts", "create", (("gil@contract.example", {"firstname": "Gil"}),), ("inserted",), "email",
                  held=frozenset({"gil@contract.example"})),
            Write("contacts", "update", (("gil@contract.example", {"firstname": "Gilbert"}),), ("updated",), "email"),
            Write("contacts", "updateOrCreate", (("gil@contract.example", {"firstname": "G"}),
                                                 ("hal@contract.example", {"firstname": "Hal"})),
                  ("updated", "inserted"), "email", held=frozenset({"gil@contract.example", "hal@contract.example"})),
            Write("list:1", "create", (("gil@contract.example", {}), ("nobody@contract.example", {})),
                  ("inserted", "!No HubSpot contact has email nobody@contract.example"), "email",
                  held=frozenset({"gil@contract.example"})),
            Write("list:1", "remove", (("gil@contract.example", {}),), ("removed",), "email",
                  gone=frozenset({"gil@contract.example"})),
        ),
        source="contacts",
        models=({"object": "contacts"}, {"object": "deals"}),
        bad_model=({"object": "starships"}, "object"),
    ),
    "httpapi": Case(
        good={"url": "{sandbox}/webhook/hooks", "method": "PUT"},
        bad={"url": "{sandbox}/webhook/hooks", "method": "GET"}, bad_field="configuration.method",
        wrong_credentials={"url": "{sandbox}/webhook/hooks", "healthcheck": "{sandbox}/webhook/status/401/health"},
        refusal="HTTP 401 Unauthorized", unquoted="The sink was told to answer 401.",
        objects=frozenset({"endpoint"}),
        fields=("endpoint", set()),
        held={"endpoint": webhook_bodies},
        writes=(
            Write("endpoint", "append", (("ivy@contract.example", {"email": "ivy@contract.example"}),), ("",),
                  held=frozenset({"ivy@contract.example"})),
            Write("endpoint", "create", (("jo@contract.example", {"email": "jo@contract.example"}),), ("",),
                  "email", held=frozenset({"jo@contract.example"})),
            Write("endpoint", "updateOrCreate", (("jo@contract.example", {"email": "jo@contract.example"}),),
                  ("",), "email"),
        ),
    ),
}
