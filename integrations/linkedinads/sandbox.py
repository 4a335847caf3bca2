"""LinkedIn Marketing API emulation for Matched Audiences: ad accounts, DMP segments and their
streamed members (hashed emails, companies), plus LinkedIn's OAuth.

Contract: learn.microsoft.com/linkedin/marketing (versioning, matched audiences,
error handling) and LinkedIn's OAuth pages. Every /rest call needs
`LinkedIn-Version: YYYYMM[.RR]` (400 without, 426 for a version outside the
supported window) and `X-Restli-Protocol-Version: 2.0.0`; member writes need
`X-RestLi-Method: BATCH_CREATE`. A new segment takes
`linkedin_segment_ready_seconds` before it accepts members (404 until then).
Re-adding or re-removing a member answers 201, by design.

Not documented by LinkedIn, chosen here: the per-element error is Rest.li's
`{"status": 400, "error": {"message", "status"}}`; 429s carry Retry-After.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import unquote

from werkzeug.routing import Rule

from integrations.sandbox import oauth, ratelimit
from integrations.sandbox.http import BadBody, abort_with, empty_response, json_response, now, read_json

NAME = "linkedin"
PREFIX = "/linkedin"

SETTINGS = {
    "linkedin_users_per_minute": 600,
    "linkedin_companies_per_minute": 300,
    "linkedin_segment_ready_seconds": 5.0,
    "linkedin_supported_months": 12,  # how far back a LinkedIn-Version stays active
}

INDEXES = ("segment", "account")

MEMBER_URN = "urn:li:person:SbxMember01"
ACCOUNT_URN = "urn:li:sponsoredAccount:"
SEGMENT_TYPES = ("USER", "COMPANY", "USER_LIST_UPLOAD", "COMPANY_LIST_UPLOAD")
WRITER_ROLES = ("ACCOUNT_BILLING_ADMIN", "ACCOUNT_MANAGER", "CAMPAIGN_MANAGER", "CREATIVE_MANAGER")
HEX = re.compile(r"^[0-9a-f]+$")
VERSION = re.compile(r"^(\d{4})(\d{2})(\.\d{2})?$")


def error_response(ctx, status, message, headers=None):
    return json_response({"message": message, "status": status}, status, headers)


def fail(status, message, code=None, service_code=None):
    body = {"message": message, "status": status}
    if code:
        body["code"] = code
    if service_code:
        body["serviceErrorCode"] = service_code
    abort_with(json_response(body, status))


def _unauthorized(ctx, reason):
    messages = {"missing": ("Empty oauth2_access_token", 401),
                "invalid": ("Invalid access token", 65600),
                "revoked": ("The token used in the request has been revoked by the user", 65601),
                "expired": ("The token used in the request has expired", 65602)}
    message, service_code = messages[reason]
    return json_response({"message": message, "serviceErrorCode": service_code, "status": 401}, 401)


OAUTH = oauth.OAuthConfig(
    name="LinkedIn",
    scopes=("r_ads", "rw_ads", "rw_dmp_segments"),
    scope_separator=",",
    rotate_refresh_tokens=False,  # the refresh token is reused until its fixed 365-day end
    refresh_token_lifetime=365 * 24 * 3600,
    send_refresh_expires_in=True,
    unauthorized=_unauthorized,
)


# -- request checks -------------------------------------------------------------------

def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def check_version(ctx, request):
    version = request.headers.get("LinkedIn-Version")
    if not version:
        fail(400, "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
             code="VERSION_MISSING")
    match = VERSION.match(version.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        fail(400, f"Invalid LinkedIn-Version {version!r}; expected YYYYMM", code="INVALID_VERSION")
    today = datetime.now(timezone.utc)
    asked = _month_index(int(match.group(1)), int(match.group(2)))
    current = _month_index(today.year, today.month)
    if asked > current or current - asked > int(ctx.settings["linkedin_supported_months"]):
        fail(426, f"Requested version {version} is not active", code="NONEXISTENT_VERSION")


def api(handler):
    """Versioned Rest.li call: headers checked, token required."""

    def wrapped(ctx, request, **values):
        token = oauth.authenticate(ctx, request)
        check_version(ctx, request)
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            fail(400, "X-Restli-Protocol-Version: 2.0.0 is required by this sandbox", code="INVALID_PROTOCOL_VERSION")
        try:
            return handler(ctx, request, token=token, **values)
        except BadBody as exc:
            fail(400, str(exc))

    return wrapped


def need_scope(token, *scopes):
    if not any(oauth.has_scope(token, scope) for scope in scopes):
        fail(403, f"Not enough permissions to access this resource; needs {' or '.join(scopes)}",
             code="ACCESS_DENIED", service_code=100)


def _paging(request, default_count=10):
    try:
        start = int(request.args.get("start", 0))
        count = int(request.args.get("count", default_count))
    except ValueError:
        fail(400, "start and count must be integers", code="ILLEGAL_ARGUMENT")
    if start < 0 or count < 0:
        fail(400, "start and count must not be negative", code="ILLEGAL_ARGUMENT")
    return start, count


# -- ad accounts --------------------------------------------------------------------------

def account_urn(account_id) -> str:
    return f"{ACCOUNT_URN}{account_id}"


def render_account(account):
    return {k: v for k, v in account.items() if not k.startswith("_")}


@api
def ad_account_users(ctx, request, token):
    need_scope(token, "r_ads", "rw_ads")
    if request.args.get("q") != "authenticatedUser":
        fail(400, "Only the finder q=authenticatedUser is supported", code="ILLEGAL_ARGUMENT")
    roles = ctx.state.find("account_roles", user=MEMBER_URN)
    start, count = _paging(request, 100)
    elements = [{"account": r["account"], "user": r["user"], "role": r["role"],
                 "changeAuditStamps": r["changeAuditStamps"]} for r in roles[start:start + count]]
    return json_response({"elements": elements, "paging": {"start": start, "count": count, "links": [],
                                                           "total": len(roles)}})


def _search_filters(search: str) -> dict:
    """Rest.li search=(status:(values:List(ACTIVE)),type:(values:List(BUSINESS)),test:false)."""
    filters = {}
    for field, values in re.findall(r"(\w+):\(values:List\(([^)]*)\)\)", search):
        filters[field] = [unquote(v) for v in values.split(",") if v]
    for field, value in re.findall(r"(\w+):(true|false)\b", search):
        filters[field] = value == "true"
    return filters


@api
def ad_accounts(ctx, request, token):
    need_scope(token, "r_ads", "rw_ads")
    if request.args.get("q") != "search":
        fail(400, "Only the finder q=search is supported", code="ILLEGAL_ARGUMENT")
    mine = {r["account"] for r in ctx.state.find("account_roles", user=MEMBER_URN)}
    accounts = [a for a in ctx.state.find("ad_accounts") if account_urn(a["id"]) in mine]
    filters = _search_filters(request.args.get("search", ""))
    for field, wanted in filters.items():
        if field in ("status", "type", "currency", "reference", "name"):
            accounts = [a for a in accounts if str(a.get(field)) in wanted]
        elif field == "id":
            accounts = [a for a in accounts if str(a["id"]) in wanted or account_urn(a["id"]) in wanted]
        elif field == "test":
            accounts = [a for a in accounts if a["test"] == wanted]
    start, count = _paging(request, 100)
    return json_response({"elements": [render_account(a) for a in accounts[start:start + count]],
                          "paging": {"start": start, "count": count, "links": [], "total": len(accounts)}})


@api
def ad_account(ctx, request, token, account_id):
    need_scope(token, "r_ads", "rw_ads")
    account = ctx.state.get("ad_accounts", account_id)
    if account is None or _role(ctx, account_urn(account_id)) is None:
        fail(404, f"Ad account {account_id} not found", code="NOT_FOUND")
    return json_response(render_account(account))


def _role(ctx, urn):
    record = ctx.state.find_one("account_roles", account=urn, user=MEMBER_URN)
    return record["role"] if record else None


# -- DMP segments ----------------------------------------------------------------------------

def render_segment(ctx, segment):
    ready = now() >= segment["_ready_at"]
    inputs = ctx.state.count("segment_members", segment=segment["id"])
    status = "READY" if ready else "BUILDING"
    out = {k: v for k, v in segment.items() if not k.startswith("_")}
    out["destinations"] = [
        {**d, "status": status, "destinationSegmentId": f"urn:li:adSegment:{segment['id'] + 900000}",
         "audienceSize": inputs, "matchedCount": inputs, "inputCount": inputs}
        for d in segment["destinations"]
    ]
    return out


@api
def create_segment(ctx, request, token):
    need_scope(token, "rw_dmp_segments")
    body = read_json(request)
    if not isinstance(body, dict):
        fail(400, "The request body must be a JSON object", code="ILLEGAL_ARGUMENT")
    for field in ("name", "sourcePlatform", "account", "type", "destinations"):
        if body.get(field) in (None, "", []):
            fail(422, f"ERROR :: /{field} :: field is required but not found and has no default value")
    if body["type"] not in SEGMENT_TYPES:
        fail(422, f"ERROR :: /type :: \"{body['type']}\" is not an enum symbol of {', '.join(SEGMENT_TYPES)}")
    if body.get("accessPolicy", "PRIVATE") not in ("PRIVATE", "PUBLIC"):
        fail(422, "ERROR :: /accessPolicy :: must be PRIVATE or PUBLIC")
    destinations = body["destinations"]
    if not isinstance(destinations, list) or any(not isinstance(d, dict) or d.get("destination") != "LINKEDIN"
                                                 for d in destinations):
        fail(422, "ERROR :: /destinations :: each destination must be {\"destination\": \"LINKEDIN\"}")
    account = unquote(str(body["account"]))
    role = _role(ctx, account)
    if role is None:
        fail(403, f"Member has no role on {account}", code="ACCESS_DENIED", service_code=100)
    if role not in WRITER_ROLES:
        fail(403, f"Role {role} on {account} cannot manage audiences", code="ACCESS_DENIED", service_code=100)
    stamp = int(now() * 1000)
    segment = ctx.state.insert("segments", {
                "name": body["name"], "sourcePlatform": body["sourcePlatform"],
        "sourceSegmentId": body.get("sourceSegmentId"), "account": account,
        "accessPolicy": body.get("accessPolicy", "PRIVATE"), "type": body["type"],
        "destinations": [{"destination": "LINKEDIN"} for _ in destinations],
        "created": stamp, "lastModified": stamp,
        "_ready_at": now() + float(ctx.settings["linkedin_segment_ready_seconds"]),
    })
    location = f"/dmpSegments/{segment['id']}"
    return empty_response(201, {"x-restli-id": str(segment["id"]), "x-linkedin-id": str(segment["id"]),
                                "Location": location})


@api
def list_segments(ctx, request, token):
    need_scope(token, "rw_dmp_segments")
    if request.args.get("q") != "account":
        fail(400, "Only the finder q=account is supported", code="ILLEGAL_ARGUMENT")
    account = unquote(request.args.get("account", ""))
    if not account.startswith(ACCOUNT_URN):
        fail(400, "account must be a urn:li:sponsoredAccount URN", code="ILLEGAL_ARGUMENT")
    if _role(ctx, account) is None:
        fail(403, f"Member has no role on {account}", code="ACCESS_DENIED", service_code=100)
    equals = {"account": account}
    for extra in ("sourceSegmentId", "sourcePlatform"):
        if request.args.get(extra):
            equals[extra] = request.args[extra]
    segments = ctx.state.find("segments", **equals)
    start, count = _paging(request)
    return json_response({"elements": [render_segment(ctx, s) for s in segments[start:start + count]],
                          "paging": {"start": start, "count": count, "links": [], "total": len(segments)}})


def _segment(ctx, segment_id, for_write=False):
    segment = ctx.state.get("segments", segment_id)
    if segment is None or _role(ctx, segment["account"]) is None:
        fail(404, f"DMP segment {segment_id} not found", code="NOT_FOUND")
    if for_write and now() < segment["_ready_at"]:
        # Freshly created segments are not writable for a few seconds.
        fail(404, f"DMP segment {segment_id} not found", code="NOT_FOUND")
    return segment


@api
def get_segment(ctx, request, token, segment_id):
    need_scope(token, "rw_dmp_segments")
    return json_response(render_segment(ctx, _segment(ctx, segment_id)))


# -- streaming members --------------------------------------------------------------------------

def _batch(ctx, request, token, segment_id, resource, expected_type, element_key):
    need_scope(token, "rw_dmp_segments")
    if request.headers.get("X-RestLi-Method", "").upper() != "BATCH_CREATE":
        fail(400, "X-RestLi-Method: BATCH_CREATE is required for this resource", code="ILLEGAL_ARGUMENT")
    allowed, headers = ratelimit.linkedin_member(ctx, MEMBER_URN, resource)
    if not allowed:
        abort_with(json_response({"message": "Resource level throttle MEMBER MINUTE limit for calls to this "
                                             "resource is reached.", "status": 429,
                                  "serviceErrorCode": 101}, 429, headers))
    segment = _segment(ctx, segment_id, for_write=True)
    if _role(ctx, segment["account"]) not in WRITER_ROLES:
        fail(403, "The member's role on this ad account cannot manage audiences", code="ACCESS_DENIED")
    if segment["type"] != expected_type:
        fail(400, f"Segment {segment_id} has type {segment['type']}; /{resource} needs a {expected_type} segment",
             code="ILLEGAL_ARGUMENT")
    body = read_json(request)
    elements = body.get("elements") if isinstance(body, dict) else None
    if not isinstance(elements, list) or not elements:
        fail(400, "elements must be a non-empty array", code="ILLEGAL_ARGUMENT")
    results = []
    with ctx.state.lock, ctx.state.transaction():
        for element in elements:
            problem, key = element_key(element) if isinstance(element, dict) else ("element must be an object", None)
            if problem is None and element.get("action") not in ("ADD", "REMOVE"):
                problem = "action must be ADD or REMOVE"
            if problem:
                results.append({"status": 400, "error": {"message": problem, "status": 400}})
                continue
            member_id = f"{segment['id']}|{key}"
            if element["action"] == "ADD":
                ctx.state.put("segment_members", {"id": member_id, "segment": segment["id"], "key": key,
                                                  "element": element})
            else:
                ctx.state.delete("segment_members", member_id)
            results.append({"status": 201})
        ctx.state.update("segments", segment["id"], {"lastModified": int(now() * 1000)})
    return json_response({"elements": results})


ID_TYPES = {"SHA256_EMAIL": 64, "SHA512_EMAIL": 128, "GOOGLE_AID": None}


def user_key(element):
    """(problem, identity key) for one user element."""
    ids = element.get("userIds")
    if "userId" in element and ids is None:
        return "userIds (a list) is required; the singular userId is not accepted on /rest", None
    keys = []
    for item in ids or []:
        if not isinstance(item, dict):
            return "each userIds entry must be an object", None
        id_type, value = item.get("idType"), item.get("idValue")
        if id_type not in ID_TYPES:
            return f"idType must be one of {', '.join(ID_TYPES)}", None
        length = ID_TYPES[id_type]
        if not isinstance(value, str) or not value:
            return f"idValue for {id_type} must be a non-empty string", None
        if length and (len(value) != length or not HEX.match(value)):
            return f"idValue for {id_type} must be {length} lowercase hex characters", None
        keys.append(f"{id_type}:{value}")
    if keys:
        return None, sorted(keys)[0]
    if element.get("firstName") and element.get("lastName"):
        parts = [element["firstName"], element["lastName"], element.get("company", ""), element.get("title", "")]
        return None, "NAME:" + "|".join(p.strip().lower() for p in parts)
    return "userIds or firstName and lastName are required", None


COMPANY_LIMITS = {"companyPageUrl": 100, "city": 50, "state": 50, "postalCode": 20, "stockSymbol": 5}


def company_key(element):
    for field, limit in COMPANY_LIMITS.items():
        value = element.get(field)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            return f"{field} must be a string of at most {limit} characters", None
    industries = element.get("industries")
    if industries is not None and (not isinstance(industries, list) or len(industries) > 3
                                   or any(not isinstance(i, str) or len(i) > 50 for i in industries)):
        return "industries must be at most 3 strings of at most 50 characters", None
    country = element.get("country")
    if country is not None and (not isinstance(country, str) or not re.match(r"^[A-Z]{2}$", country)):
        return "country must be an ISO 3166-1 alpha-2 code", None
    urn = element.get("organizationUrn")
    if urn is not None and not re.match(r"^urn:li:organization:\d+$", str(urn)):
        return "organizationUrn must be urn:li:organization:<id>", None
    for field in ("organizationUrn", "companyWebsiteDomain", "companyEmailDomain", "companyPageUrl", "companyName"):
        if element.get(field):
            return None, f"{field}:{str(element[field]).strip().lower()}"
    return "one of companyName, organizationUrn, companyWebsiteDomain, companyEmailDomain or companyPageUrl " \
           "is required", None


@api
def segment_users(ctx, request, token, segment_id):
    return _batch(ctx, request, token, segment_id, "users", "USER", user_key)


@api
def segment_companies(ctx, request, token, segment_id):
    return _batch(ctx, request, token, segment_id, "companies", "COMPANY", company_key)


RULES = [
    Rule("/oauth/v2/authorization", endpoint=oauth.authorize(OAUTH), methods=["GET", "POST"]),
    Rule("/oauth/v2/accessToken", endpoint=oauth.token(OAUTH), methods=["POST"]),
    Rule("/oauth/v2/revoke", endpoint=oauth.revoke(OAUTH), methods=["POST"]),
    Rule("/rest/adAccountUsers", endpoint=ad_account_users, methods=["GET"]),
    Rule("/rest/adAccounts", endpoint=ad_accounts, methods=["GET"]),
    Rule("/rest/adAccounts/<int:account_id>", endpoint=ad_account, methods=["GET"]),
    Rule("/rest/dmpSegments", endpoint=list_segments, methods=["GET"]),
    Rule("/rest/dmpSegments", endpoint=create_segment, methods=["POST"]),
    Rule("/rest/dmpSegments/<int:segment_id>", endpoint=get_segment, methods=["GET"]),
    Rule("/rest/dmpSegments/<int:segment_id>/users", endpoint=segment_users, methods=["POST"]),
    Rule("/rest/dmpSegments/<int:segment_id>/companies", endpoint=segment_companies, methods=["POST"]),
]


# -- demo data ----------------------------------------------------------------------------------

def prepare_seed(collection, doc):
    """Fill what the handlers rely on when tests or the demo post raw documents."""
    if collection == "segments":
        stamp = int(now() * 1000)
        for key, value in (("sourcePlatform", "SANDBOX"), ("sourceSegmentId", None), ("accessPolicy", "PRIVATE"),
                           ("type", "USER"), ("destinations", [{"destination": "LINKEDIN"}]), ("created", stamp),
                           ("lastModified", stamp), ("_ready_at", 0)):
            doc.setdefault(key, value)
    return doc


ACCOUNTS = [
    # id, name, organization, status, role of the sandbox member
    (512630692, "Polytomic Inc.", "urn:li:organization:28818517", "ACTIVE", "ACCOUNT_MANAGER"),
    (516848833, "Sandbox Demo Co", "urn:li:organization:30000001", "ACTIVE", "CAMPAIGN_MANAGER"),
    (509876543, "Read-only Agency Account", "urn:li:organization:30000002", "ACTIVE", "VIEWER"),
]


def seed(state):
    stamp = {"created": {"time": 1735689600000}, "lastModified": {"time": 1735689600000}}
    for id, name, reference, status, role in ACCOUNTS:
        state.insert("ad_accounts", {"id": id, "name": name, "reference": reference, "status": status,
                                     "type": "BUSINESS", "currency": "USD", "test": False,
                                     "notifiedOnCampaignOptimization": False, "servingStatuses": ["RUNNABLE"],
                                     "changeAuditStamps": stamp, "version": {"versionTag": "1"}})
        state.insert("account_roles", {"id": f"{id}|{MEMBER_URN}", "account": account_urn(id), "user": MEMBER_URN,
                                       "role": role, "changeAuditStamps": stamp})
    created = 1735689600000
    state.insert("segments", {"id": 10700, "name": "Website visitors - enterprise", "sourcePlatform": "SANDBOX",
                              "sourceSegmentId": None, "account": account_urn(512630692), "accessPolicy": "PRIVATE",
                              "type": "USER", "destinations": [{"destination": "LINKEDIN"}], "created": created,
                              "lastModified": created, "_ready_at": 0})
    state.insert("segments", {"id": 10701, "name": "Target accounts Q3", "sourcePlatform": "SANDBOX",
                              "sourceSegmentId": None, "account": account_urn(512630692), "accessPolicy": "PRIVATE",
                              "type": "COMPANY", "destinations": [{"destination": "LINKEDIN"}], "created": created,
                              "lastModified": created, "_ready_at": 0})
