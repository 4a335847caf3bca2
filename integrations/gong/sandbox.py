"""Gong API v2 emulation for Gong Engage flows: flows, prospect assignment, users, OAuth.

Contract: Gong's published v2 spec (flows, flows/prospects, flows/prospects/assign)
and the help-center pages for the two unassign endpoints. Every answer carries a
`requestId`; errors are `{"requestId", "errors": [...]}`; lists page with
`records.cursor`, present only when more pages exist. The company may make 3
calls per second and 10,000 per day; beyond that 429 with Retry-After.

Prospects are CRM contact/lead ids that must exist "in the CRM connected to
Gong": the `crm_prospects` collection (seeded below; add more through
POST /_sandbox/state/gong/crm_prospects).
"""

from __future__ import annotations

import base64
import json
import secrets
import string

from werkzeug.routing import Rule

from integrations.sandbox import oauth, ratelimit
from integrations.sandbox.http import BadBody, abort_with, iso, json_response, read_json

NAME = "gong"
PREFIX = "/gong"

SETTINGS = {
    "gong_calls_per_second": 3,
    "gong_calls_per_day": 10000,
    "gong_page_size": 100,
}

INDEXES = ("_email", "crmProspectId")

MAX_PROSPECTS = 200
WORKSPACE = "623457276584334"
OTHER_WORKSPACE = "723457276584335"


def request_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(19))


def error_response(ctx, status, message, headers=None):
    return json_response({"requestId": request_id(), "errors": [message]}, status, headers)


def fail(status, *messages):
    abort_with(json_response({"requestId": request_id(), "errors": list(messages)}, status))


def _unauthorized(ctx, reason):
    messages = {"missing": "Authorization header is missing", "invalid": "Invalid authorization credentials",
                "expired": "The access token has expired", "revoked": "The access token has been revoked"}
    return json_response({"requestId": request_id(), "errors": [messages[reason]]}, 401)


OAUTH = oauth.OAuthConfig(
    name="Gong",
    scopes=("api:flows:read", "api:flows:write", "api:users:read"),
    token_extras=lambda ctx, token: {"api_base_url_for_customer": ctx.provider_url},
    rotate_refresh_tokens=True,
    api_key_basic=True,
    api_keys=({"id": "sandbox-access-key", "secret": "sandbox-access-secret"},),
    unauthorized=_unauthorized,
)


def api(scope):
    """Authenticate (Bearer OAuth token or Basic access key), check the scope, apply the company limits."""

    def decorate(handler):
        def wrapped(ctx, request, **values):
            token = oauth.authenticate(ctx, request)
            if not oauth.has_scope(token, scope):
                fail(403, f"This endpoint requires the scope '{scope}'")
            allowed, headers = ratelimit.gong(ctx)
            if not allowed:
                return json_response({"requestId": request_id(), "errors": ["Too many requests"]}, 429, headers)
            try:
                return handler(ctx, request, token=token, **values)
            except BadBody as exc:
                fail(400, str(exc))

        return wrapped

    return decorate


def _json_object(request) -> dict:
    body = read_json(request)
    if not isinstance(body, dict):
        fail(400, "The request body must be a JSON object")
    return body


# -- cursor paging ---------------------------------------------------------------

def _encode_cursor(offset: int, inputs: dict) -> str:
    raw = json.dumps({"offset": offset, "inputs": inputs}, sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, inputs: dict) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = int(data["offset"])
    except (ValueError, KeyError, TypeError):
        fail(400, "cursor is not valid")
    if data.get("inputs") != inputs:
        fail(400, "cursor does not match the other request parameters")
    return offset


def page(ctx, request, docs, inputs):
    """One page of docs with Gong's `records` block; the cursor repeats the inputs it was made for."""
    size = int(ctx.settings["gong_page_size"])
    offset = _decode_cursor(request.args["cursor"], inputs) if request.args.get("cursor") else 0
    chunk = docs[offset:offset + size]
    records = {"totalRecords": len(docs), "currentPageSize": len(chunk), "currentPageNumber": offset // size}
    if offset + size < len(docs):
        records["cursor"] = _encode_cursor(offset + size, inputs)
    return records, chunk


# -- users -----------------------------------------------------------------------

def render_user(user):
    return {k: v for k, v in user.items() if not k.startswith("_")}


@api("api:users:read")
def list_users(ctx, request, token):
    records, users = page(ctx, request, ctx.state.find("users"), {})
    return json_response({"requestId": request_id(), "records": records, "users": [render_user(u) for u in users]})


def _user_by_email(ctx, email):
    return ctx.state.find_one("users", _email=(email or "").strip().lower())


# -- flows ------------------------------------------------------------------------

def render_flow(flow):
    return {"id": flow["id"], "name": flow["name"], "folderId": flow["folderId"], "folderName": flow["folderName"],
            "visibility": flow["visibility"], "creationDate": flow["creationDate"]}


@api("api:flows:read")
def list_flows(ctx, request, token):
    owner_email = request.args.get("flowOwnerEmail")
    if not owner_email:
        fail(400, "flowOwnerEmail is required")
    owner = _user_by_email(ctx, owner_email)
    if owner is None:
        fail(400, f"No Gong user with email {owner_email}")
    workspace = request.args.get("workspaceId")
    flows = [f for f in ctx.state.find("flows")
             if f["visibility"] == "Company" or f["_owner"] == owner["id"]]
    if workspace:
        flows = [f for f in flows if f["workspaceId"] == workspace]
    inputs = {"flowOwnerEmail": owner_email.lower(), "workspaceId": workspace}
    records, chunk = page(ctx, request, flows, inputs)
    return json_response({"requestId": request_id(), "records": records, "flows": [render_flow(f) for f in chunk]})


# -- prospects and flow instances --------------------------------------------------------

def render_instance(instance):
    return {k: instance[k] for k in ("flowId", "flowName", "crmProspectId", "flowInstanceId",
                                     "flowInstanceOwnerEmail", "flowInstanceOwnerFullName",
                                     "flowInstanceCreateDate", "flowInstanceStatus", "workspaceId")}


def _prospect_ids(body, name, cap=None):
    ids = body.get(name)
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        fail(400, f"{name} must be a non-empty array of CRM ids")
    if cap and len(ids) > cap:
        fail(400, f"{name}: size must be between 1 and {cap}")
    return list(dict.fromkeys(ids))


@api("api:flows:read")
def prospects_flows(ctx, request, token):
    ids = _prospect_ids(_json_object(request), "crmProspectsIds")
    instances = ctx.state.find("flow_instances", crmProspectId=ids, _active=True)
    return json_response({"requestId": request_id(), "prospectsAssigned": [render_instance(i) for i in instances]})


@api("api:flows:write")
def assign(ctx, request, token):
    body = _json_object(request)
    missing = [n for n in ("crmProspectsIds", "flowId", "flowInstanceOwnerEmail") if not body.get(n)]
    if missing:
        fail(400, *(f"{name} is required" for name in missing))
    ids = _prospect_ids(body, "crmProspectsIds", MAX_PROSPECTS)
    flow = ctx.state.get("flows", str(body["flowId"]))
    if flow is None:
        fail(400, f"Flow {body['flowId']} not found")
    owner = _user_by_email(ctx, body["flowInstanceOwnerEmail"])
    if owner is None:
        fail(400, f"No Gong user with email {body['flowInstanceOwnerEmail']}")
    if flow["visibility"] == "Personal" and flow["_owner"] != owner["id"]:
        fail(400, f"Flow {flow['id']} is a personal flow of another user")
    assigned, not_assigned = [], []
    with ctx.state.lock, ctx.state.transaction():
        known = {p["id"] for p in ctx.state.find("crm_prospects", id=ids)}
        running = {i["crmProspectId"] for i in ctx.state.find("flow_instances", crmProspectId=ids,
                                                              flowId=flow["id"], _active=True)}
        for crm_id in ids:
            if crm_id not in known:
                not_assigned.append(_failure(flow, crm_id, "InvalidArgument", f"Invalid crmId {crm_id}"))
            elif crm_id in running:
                not_assigned.append(_failure(flow, crm_id, "InvalidState",
                                             f"Prospect {crm_id} is already assigned to flow {flow['id']}"))
            else:
                instance_id = _snowflake()
                instance = ctx.state.insert("flow_instances", {
                    "id": instance_id, "flowInstanceId": instance_id, "flowId": flow["id"],
                    "flowName": flow["name"], "crmProspectId": crm_id,
                    "flowInstanceOwnerEmail": owner["emailAddress"],
                    "flowInstanceOwnerFullName": f"{owner['firstName']} {owner['lastName']}",
                    "flowInstanceCreateDate": iso(), "flowInstanceStatus": "Running",
                    "workspaceId": flow["workspaceId"], "_active": True})
                assigned.append(render_instance(instance))
    return json_response({"requestId": request_id(), "prospectsAssigned": assigned,
                          "prospectsNotAssigned": not_assigned})


def _failure(flow, crm_id, code, message):
    return {"flowId": flow["id"], "crmProspectId": crm_id, "errorCode": code, "errorMessage": message}


def _snowflake() -> str:
    """Gong ids are long decimal strings."""
    return str(1_000_000_000_000_000_000 + secrets.randbelow(8_000_000_000_000_000_000))


def _end(ctx, instances, by_email):
    ended = []
    for instance in instances:
        ctx.state.update("flow_instances", instance["id"], {"_active": False, "_unassignedBy": by_email})
        ended.append(instance["flowInstanceId"])
    return ended


@api("api:flows:write")
def unassign_by_crm_id(ctx, request, token):
    body = _json_object(request)
    crm_id = body.get("crmProspectId")
    if not isinstance(crm_id, str) or not crm_id:
        fail(400, "crmProspectId is required")
    by_email = body.get("unassignedByUserEmail")
    if by_email and _user_by_email(ctx, by_email) is None:
        fail(400, f"No Gong user with email {by_email}")
    equals = {"crmProspectId": crm_id, "_active": True}
    if body.get("flowId"):
        equals["flowId"] = str(body["flowId"])
    with ctx.state.lock:
        ended = _end(ctx, ctx.state.find("flow_instances", **equals), by_email)
    return json_response({"requestId": request_id(), "unassignedFlowInstanceIds": ended})


@api("api:flows:write")
def unassign_by_instance_id(ctx, request, token):
    body = _json_object(request)
    ids = _prospect_ids(body, "flowInstanceIds", MAX_PROSPECTS)
    by_email = body.get("unassignedByUserEmail")
    if by_email and _user_by_email(ctx, by_email) is None:
        fail(400, f"No Gong user with email {by_email}")
    with ctx.state.lock:
        ended = _end(ctx, ctx.state.find("flow_instances", id=ids, _active=True), by_email)
    return json_response({"requestId": request_id(), "unassignedFlowInstanceIds": ended})


RULES = [
    Rule("/oauth2/authorize", endpoint=oauth.authorize(OAUTH), methods=["GET", "POST"]),
    Rule("/oauth2/generate-customer-token", endpoint=oauth.token(OAUTH), methods=["POST"]),
    Rule("/oauth2/revoke", endpoint=oauth.revoke(OAUTH), methods=["POST"]),
    Rule("/v2/users", endpoint=list_users, methods=["GET"]),
    Rule("/v2/flows", endpoint=list_flows, methods=["GET"]),
    Rule("/v2/flows/prospects", endpoint=prospects_flows, methods=["POST"]),
    Rule("/v2/flows/prospects/assign", endpoint=assign, methods=["POST"]),
    Rule("/v2/flows/prospects/unassign-flows-by-crm-id", endpoint=unassign_by_crm_id, methods=["POST"]),
    Rule("/v2/flows/prospects/unassign-flows-by-instance-id", endpoint=unassign_by_instance_id, methods=["POST"]),
]


# -- demo data ------------------------------------------------------------------------

def prepare_seed(collection, doc):
    """Fill what the handlers rely on when tests or the demo post raw documents."""
    if collection == "users" and doc.get("emailAddress"):
        doc["_email"] = doc["emailAddress"].strip().lower()
    elif collection == "flows":
        doc.setdefault("visibility", "Company")
        doc.setdefault("_owner", None)
        doc.setdefault("workspaceId", WORKSPACE)
        doc.setdefault("folderId", None)
        doc.setdefault("folderName", None)
        doc.setdefault("creationDate", iso())
        doc["id"] = str(doc.get("id") or _snowflake())
    return doc


USERS = [
    ("234599484848423", "Gabe", "Admin", "admin@sandbox.example"),
    ("234599484848424", "Riley", "Rep", "riley@sandbox.example"),
    ("234599484848425", "Sam", "Seller", "sam@sandbox.example"),
]

FLOWS = [
    # id, name, folder id, folder name, visibility, owner (for Personal), workspace
    ("1695493301223590792", "SDR Outbound - Enterprise", "1695493301223573465", "Outbound", "Company", None, WORKSPACE),
    ("1695493301223590793", "SDR Outbound - Mid-Market", "1695493301223573465", "Outbound", "Company", None, WORKSPACE),
    ("1695493301223590794", "Inbound Demo Request", "1695493301223573466", "Inbound", "Company", None, WORKSPACE),
    ("1695493301223590795", "Event Follow-up", "1695493301223573466", "Inbound", "Company", None, WORKSPACE),
    ("1695493301223590796", "Customer Expansion", "1695493301223573467", "Customer", "Company", None, OTHER_WORKSPACE),
    ("1695493301223590797", "Riley's Warm Leads", "1695493301223573468", "My flows", "Personal", "234599484848424", WORKSPACE),
    ("1695493301223590798", "Sam's Re-engage", "1695493301223573469", "My flows", "Personal", "234599484848425", WORKSPACE),
]

# CRM records that exist in the CRM connected to Gong: Salesforce contacts (003) and leads (00Q).
PROSPECTS = [(f"0035g00000SBX{n:03d}AA", "Contact") for n in range(1, 16)] + \
            [(f"00Q5g00000SBX{n:03d}AA", "Lead") for n in range(1, 6)]


def seed(state):
    for id, first, last, email in USERS:
        state.insert("users", {"id": id, "emailAddress": email, "_email": email, "firstName": first,
                               "lastName": last, "title": "Account Executive", "active": True,
                               "created": "2025-01-10T09:00:00-08:00", "phoneNumber": None,
                               "managerId": None, "spokenLanguages": [{"language": "en-US", "primary": True}]})
    for id, name, folder_id, folder_name, visibility, owner, workspace in FLOWS:
        state.insert("flows", {"id": id, "name": name, "folderId": folder_id, "folderName": folder_name,
                               "visibility": visibility, "_owner": owner, "workspaceId": workspace,
                               "creationDate": "2025-03-01T10:00:00-08:00"})
    for n, (crm_id, kind) in enumerate(PROSPECTS, start=1):
        state.insert("crm_prospects", {"id": crm_id, "type": kind, "firstName": f"Prospect{n}",
                                       "lastName": "Sandbox", "email": f"prospect{n}@customer.example"})
