"""HubSpot CRM v3 emulation: contacts, companies and deals, their properties, batch writes, search, lists,
OAuth.

Contract: HubSpot's CRM v3 reference (objects, batch read/create/update/upsert/archive,
search, properties, lists) and its OAuth v1 token endpoint; see
shared/reference/provider-apis.md section 5. Records are `{"id", "properties",
"createdAt", "updatedAt", "archived"}` with every property value a string; lists
page with `after` (`paging.next.after`, absent on the last page); errors are
`{"status": "error", "message", "correlationId", "category", ...}`. Batch calls take
at most 100 inputs and report each refused input in `errors` with a 207.

Choices where HubSpot documents little (connectors should parse defensively):
- Batch inputs may carry `objectWriteTraceId`; results and errors echo it (errors
  under `context.objectWriteTraceId`), so a client can match them to its inputs.
- Upsert and batch read take `idProperty` per input or as a query parameter;
  only `email` (contacts), `hs_object_id` and properties with a unique value qualify.
- The rate limit is a fixed 10-second window per account (HubSpot's is rolling).

Storage: one document per record in `contacts` / `companies` (archived ones move to
`contacts_archived` / `companies_archived`), with lookup fields `_email`, `_domain`,
`_external_id` and `_modified` (epoch ms of the last change), all indexed.
"""

from __future__ import annotations

import json
import uuid
from functools import lru_cache

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from integrations.sandbox import oauth, ratelimit
from integrations.sandbox.http import abort_with, empty_response, json_response, now, read_json
from .sandbox_schema import (BUILTIN_PROPERTIES, DEFAULT_PROPERTIES, LAST_MODIFIED, OBJECT_TYPE_IDS, OBJECT_TYPES,
                             SINGULAR, check_value, now_iso, to_epoch_ms)

NAME = "hubspot"
PREFIX = "/hubspot"

SETTINGS = {
    "hubspot_requests_per_10s": 100,  # Free/Starter; Professional and Enterprise allow 190
    "hubspot_requests_per_day": 250000,
    "hubspot_search_per_second": 5,
    "hubspot_token_lifetime": 1800,  # HubSpot access tokens last 30 minutes
}

INDEXES = ("_email", "_domain", "_external_id", "_modified")

HUB_ID = 24681357
USER_ID = 1357911
HUB_DOMAIN = "sandbox-hub.hubspot.example"
USER_EMAIL = "admin@sandbox.example"
BATCH_MAX = 100
PAGE_MAX = 100
SEARCH_PAGE_MAX = 200
SEARCH_LIMIT = 10_000
LIST_SEARCH_MAX = 500
DEFINITIONS = {kind: {p["name"]: p for p in props} for kind, props in BUILTIN_PROPERTIES.items()}
SYSTEM = ("createdate", "hs_object_id")
RANGE_OPERATORS = {"GT": ">", "GTE": ">=", "LT": "<", "LTE": "<="}


# -- errors -------------------------------------------------------------------------------------

CATEGORIES = {400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES",
              404: "OBJECT_NOT_FOUND", 405: "VALIDATION_ERROR", 409: "CONFLICT", 429: "RATE_LIMITS"}


def error_body(message, category, **extra) -> dict:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category,
            **extra}


def error_response(ctx, status, message, headers=None):
    if status == 429:
        body = error_body("You have reached your ten_secondly_rolling limit.", "RATE_LIMITS",
                          errorType="RATE_LIMIT", policyName="TEN_SECONDLY_ROLLING")
        return json_response(body, 429, headers)
    return json_response(error_body(message, CATEGORIES.get(status, "INTERNAL_ERROR" if status >= 500 else "ERROR")),
                         status, headers)


def fail(status, message, category=None, **extra):
    abort_with(json_response(error_body(message, category or CATEGORIES.get(status, "ERROR"), **extra), status))


def _unauthorized(ctx, reason):
    messages = {
        "missing": "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
        "invalid": "The OAuth token used to make this call is invalid.",
        "expired": "The OAuth token used to make this call expired.",
        "revoked": "The OAuth token used to make this call has been revoked.",
    }
    category = "EXPIRED_AUTHENTICATION" if reason == "expired" else "INVALID_AUTHENTICATION"
    return json_response(error_body(messages[reason], category), 401)


TOKEN_ERRORS = {"invalid_client": "BAD_CLIENT_ID", "unsupported_grant_type": "BAD_GRANT_TYPE",
                "invalid_request": "BAD_REQUEST"}


def _token_error(ctx, status, error, description):
    code = TOKEN_ERRORS.get(error)
    if code is None:  # invalid_grant: say which part was wrong, as HubSpot does
        lowered = description.lower()
        code = ("BAD_REFRESH_TOKEN" if "refresh" in lowered else
                "BAD_REDIRECT_URI" if "redirect_uri" in lowered else "BAD_AUTH_CODE")
    return json_response({"status": code, "message": description, "correlationId": str(uuid.uuid4())}, status)


# -- OAuth --------------------------------------------------------------------------------------

OAUTH = oauth.OAuthConfig(
    name="HubSpot",
    scopes=("oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.companies.read",
            "crm.objects.companies.write", "crm.objects.deals.read", "crm.objects.deals.write", "crm.lists.read",
            "crm.lists.write", "crm.schemas.contacts.read",
            "crm.schemas.companies.read"),
    token_extras=lambda ctx, token: {"hub_id": HUB_ID, "user_id": USER_ID, "scopes": token["scope"],
                                     "token_use": "access_token"},
    rotate_refresh_tokens=False,  # a HubSpot refresh token lasts while the app stays installed
    pkce=True,
    api_key_bearer=True,  # private-app access tokens
    api_keys=({"id": "sandbox-api-key", "name": "Sandbox private app"},
              {"id": "pat-na1-sandbox-private-app", "name": "Sandbox private app (pat-)"}),
    unauthorized=_unauthorized,
    token_error=_token_error,
)


def token_info(ctx, request, token):
    record = ctx.state.get("oauth_tokens", token)
    if record is None or record["kind"] != "access" or record["revoked"] or record["expires_at"] < now():
        fail(404, "Token not found or expired", "OBJECT_NOT_FOUND")
    return json_response({"token": token, "user": USER_EMAIL, "hub_domain": HUB_DOMAIN, "scopes": record["scope"],
                          "hub_id": HUB_ID, "app_id": 1234567, "expires_in": int(record["expires_at"] - now()),
                          "user_id": USER_ID, "token_type": "access"})


def refresh_token_info(ctx, request, token):
    record = ctx.state.get("oauth_tokens", token)
    if record is None or record["kind"] != "refresh" or record["revoked"]:
        fail(404, "Refresh token not found", "OBJECT_NOT_FOUND")
    return json_response({"token": token, "user": USER_EMAIL, "hub_domain": HUB_DOMAIN, "scopes": record["scope"],
                          "hub_id": HUB_ID, "client_id": record["client_id"], "user_id": USER_ID,
                          "token_type": "refresh"})


def delete_refresh_token(ctx, request, token):
    """Uninstall: the refresh token and every access token of its grant stop working."""
    record = ctx.state.get("oauth_tokens", token)
    if record is None or record["kind"] != "refresh":
        fail(404, "Refresh token not found", "OBJECT_NOT_FOUND")
    with ctx.state.lock:
        for issued in ctx.state.find("oauth_tokens", grant=record["grant"]):
            ctx.state.update("oauth_tokens", issued["id"], {"revoked": True})
    return empty_response(204)


# -- authentication and rate limits -----------------------------------------------------------------

def limits(ctx, token, search: bool) -> tuple[bool, dict]:
    """Spend one request of the account's 10-second and daily budgets (and the search budget)."""
    per_10s = int(ctx.settings["hubspot_requests_per_10s"])
    per_day = int(ctx.settings["hubspot_requests_per_day"])
    allowed, remaining, reset_in = ratelimit.fixed_window(ctx.state, ("hubspot", "10s"), per_10s, 1, 10.0)
    headers = {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Max": str(per_10s),
               "X-HubSpot-RateLimit-Remaining": str(remaining)}
    if not allowed:
        return False, {**headers, "Retry-After": ratelimit.retry_after(reset_in)}
    allowed, daily_remaining, day_reset = ratelimit.fixed_window(ctx.state, ("hubspot", "day"), per_day, 1, 86400.0)
    if token.get("kind") == "api_key":  # HubSpot leaves the daily headers off OAuth calls
        headers.update({"X-HubSpot-RateLimit-Daily": str(per_day),
                        "X-HubSpot-RateLimit-Daily-Remaining": str(daily_remaining)})
    if not allowed:
        return False, {**headers, "Retry-After": ratelimit.retry_after(day_reset), "_policy": "DAILY"}
    if search:
        allowed, wait = ratelimit.sliding_window(ctx.state, ("hubspot", "search"),
                                                 int(ctx.settings["hubspot_search_per_second"]), 1.0)
        if not allowed:
            return False, {**headers, "Retry-After": ratelimit.retry_after(wait), "_policy": "SECONDLY"}
    return True, headers


def api(scope=None, search=False):
    """Authenticate, check the scope ("crm.objects.{object}.write" style, {object} filled in),
    spend the rate budget and stamp the X-HubSpot-RateLimit-* headers."""

    def decorate(handler):
        def wrapped(ctx, request, **values):
            token = oauth.authenticate(ctx, request)
            if scope:
                raw = str(values.get("object", ""))
                needed = scope.format(object=OBJECT_TYPES.get(raw.lower(), raw))
                if not oauth.has_scope(token, needed):
                    fail(403, "This app hasn't been granted all required scopes to make this call.",
                         "MISSING_SCOPES", context={"requiredGranularScopes": [needed]})
            allowed, headers = limits(ctx, token, search)
            if not allowed:
                policy = headers.pop("_policy", "TEN_SECONDLY_ROLLING")
                body = error_body(f"You have reached your {policy.lower()} limit.", "RATE_LIMITS",
                                  errorType="RATE_LIMIT", policyName=policy)
                return json_response(body, 429, headers)
            try:
                response = handler(ctx, request, token=token, **values)
            except HTTPException as exc:
                if exc.response is None:
                    raise
                response = exc.response
            response.headers.update(headers)
            return response

        return wrapped

    return decorate


def object_kind(object) -> str:
    """contacts, companies or deals for any spelling HubSpot accepts (0-1, contact, contacts); 404 otherwise."""
    kind = OBJECT_TYPES.get(str(object).lower())
    if kind is None:
        fail(404, f"Unable to infer object type from: {object}", "OBJECT_NOT_FOUND")
    return kind


def tracking(kind) -> str:
    return LAST_MODIFIED[kind]


def json_object(request) -> dict:
    body = read_json(request)
    if not isinstance(body, dict):
        fail(400, "Invalid input JSON: the body must be a JSON object")
    return body


def _int(value, name, default):
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        fail(400, f"Unable to parse {name}: {value}")


# -- storage --------------------------------------------------------------------------------------

def _raw(state, collection, where: str, params: list, order: str, limit: int, offset: int = 0) -> list[dict]:
    """A query the State API cannot say (key and range conditions on indexed fields), on the same store.

    `where` may use `key` and `json_extract(body, '$."<field>"')` of an indexed field.
    """
    sql = (f"SELECT body FROM docs WHERE collection = ? AND {where} ORDER BY {order} LIMIT ? OFFSET ?")
    with state.lock:
        rows = state.root._db.execute(sql, [state._c(collection), *params, limit, offset]).fetchall()
    return [json.loads(row[0]) for row in rows]


def _raw_count(state, collection, where: str, params: list) -> int:
    with state.lock:
        return state.root._db.execute(f"SELECT count(*) FROM docs WHERE collection = ? AND {where}",
                                      [state._c(collection), *params]).fetchone()[0]


MODIFIED = "json_extract(body, '$.\"_modified\"')"


def lookups(kind, properties: dict) -> dict:
    """The indexed lookup fields of a record with these property values."""
    email = (properties.get("email") or "").strip().lower() if kind == "contacts" else ""
    domain = (properties.get("domain") or "").strip().lower() if kind == "companies" else ""
    return {"_email": email or None, "_domain": domain or None,
            "_external_id": properties.get("external_id") or None}


@lru_cache(maxsize=16)
def millis(stamp: str) -> int:
    return to_epoch_ms(stamp)


def new_record(state, kind, properties: dict, stamp: str) -> dict:
    values = {k: v for k, v in properties.items() if v != ""}
    values.update({"createdate": stamp, tracking(kind): stamp})
    return state.insert(kind, {"properties": values, "createdAt": stamp, "updatedAt": stamp, "archived": False,
                               "_modified": millis(stamp), **lookups(kind, values)})


def changed_record(state, kind, doc: dict, properties: dict, stamp: str) -> dict:
    values = dict(doc["properties"])
    for name, value in properties.items():
        if value == "":
            values.pop(name, None)
        else:
            values[name] = value
    values[tracking(kind)] = stamp
    doc = {**doc, "properties": values, "updatedAt": stamp, "_modified": millis(stamp), **lookups(kind, values)}
    return state.put(kind, doc)


def render(kind, doc, wanted=None, extra=None) -> dict:
    """A SimplePublicObject: the requested properties (null when unset) plus the system ones."""
    values = doc["properties"]
    names = list(wanted) if wanted else DEFAULT_PROPERTIES[kind]
    properties = {name: values.get(name) for name in names}
    for name in (*SYSTEM, tracking(kind)):
        properties[name] = values.get(name)
    properties["hs_object_id"] = str(doc["id"])
    body = {"id": str(doc["id"]), "properties": properties, "createdAt": doc["createdAt"],
            "updatedAt": doc["updatedAt"], "archived": bool(doc.get("archived"))}
    if doc.get("archived"):
        body["archivedAt"] = doc.get("archivedAt")
    if extra:
        body.update(extra)
    return body


def property_names(value) -> list[str] | None:
    """`properties=a,b` or repeated `properties=a&properties=b` or a JSON list."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    names = [part.strip() for item in items for part in str(item).split(",") if part.strip()]
    return names or None


def id_properties(kind) -> tuple[str, ...]:
    unique = tuple(name for name, p in DEFINITIONS[kind].items() if p["hasUniqueValue"])
    return ("hs_object_id", "email", *unique) if kind == "contacts" else ("hs_object_id", *unique)


def check_id_property(kind, id_property):
    if id_property not in id_properties(kind):
        fail(400, f"{id_property} is not a unique property and cannot be used as idProperty for {kind}.",
             "VALIDATION_ERROR")


def find_by(state, kind, id_property, ids: list[str]) -> dict[str, dict]:
    """Existing records keyed by the id value asked with (emails compared case-insensitively)."""
    if not ids:
        return {}
    if id_property == "hs_object_id":
        numbers = [int(i) for i in ids if str(i).isdigit()]
        return {str(doc["id"]): doc for doc in state.find(kind, id=numbers)}
    if id_property == "email":
        docs = state.find(kind, _email=[str(i).strip().lower() for i in ids])
        return {doc["_email"]: doc for doc in docs}
    docs = state.find(kind, _external_id=[str(i) for i in ids])
    return {doc["_external_id"]: doc for doc in docs}


def lookup_key(id_property, value) -> str:
    return str(value).strip().lower() if id_property == "email" else str(value)


def validate_properties(kind, properties) -> tuple[dict, list[dict]]:
    """(normalised values, HubSpot error items) for one input's properties."""
    if not isinstance(properties, dict):
        return {}, [{"message": "properties must be an object", "code": "INVALID_PROPERTY_VALUE"}]
    clean, problems = {}, []
    for name, value in properties.items():
        definition = DEFINITIONS[kind].get(name)
        if definition is None:
            problems.append({"message": f'Property "{name}" does not exist', "code": "PROPERTY_DOESNT_EXIST",
                             "context": {"propertyName": [name]}, "name": name})
            continue
        text, problem = check_value(definition, value)
        if problem:
            code, message = problem
            problems.append({"message": message, "code": code, "context": {"propertyName": [name]}, "name": name})
        else:
            clean[name] = text.strip().lower() if name == "email" else text  # HubSpot keeps emails lowercased
    return clean, problems


def input_error(problems, trace=None, id=None) -> dict:
    """A StandardError for one refused input (a property validation failure)."""
    summary = ", ".join(f'{{"isValid":false,"message":"{p["message"]}","error":"{p["code"]}","name":"{p.get("name", "")}"}}'
                        for p in problems)
    context = {}
    if id is not None:
        context["ids"] = [str(id)]
    if trace is not None:
        context["objectWriteTraceId"] = [str(trace)]
    return {"status": "error", "category": "VALIDATION_ERROR", "message": f"Property values were not valid: [{summary}]",
            "context": context, "errors": [{"message": p["message"], "code": p["code"], "in": p.get("name")}
                                           for p in problems], "links": {}}


def simple_error(category, message, trace=None, ids=None) -> dict:
    context = {}
    if ids:
        context["ids"] = [str(i) for i in ids]
    if trace is not None:
        context["objectWriteTraceId"] = [str(trace)]
    return {"status": "error", "category": category, "message": message, "context": context, "errors": [],
            "links": {}}


def batch_inputs(body) -> list[dict]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        fail(400, "Invalid input JSON on line 1: inputs is required and must be an array")
    if len(inputs) > BATCH_MAX:
        fail(400, f"Batch input size {len(inputs)} exceeds the limit of {BATCH_MAX}.", "VALIDATION_ERROR",
             context={"maxSize": [str(BATCH_MAX)]})
    if not all(isinstance(item, dict) for item in inputs):
        fail(400, "Invalid input JSON: every input must be an object")
    return inputs


def batch_response(results, errors, started, ok_status=200):
    body = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": now_iso()}
    if errors:
        body.update(numErrors=len(errors), errors=errors)
        return json_response(body, 207)
    return json_response(body, ok_status)


def traced(item, rendered):
    if item.get("objectWriteTraceId") is not None:
        rendered["objectWriteTraceId"] = str(item["objectWriteTraceId"])
    return rendered


# -- properties and schemas ---------------------------------------------------------------------

@api("crm.schemas.{object}.read")
def list_properties(ctx, request, token, object):
    kind = object_kind(object)
    archived = request.args.get("archived", "false").lower() == "true"
    return json_response({"results": [] if archived else BUILTIN_PROPERTIES[kind]})


@api("crm.schemas.{object}.read")
def get_property(ctx, request, token, object, name):
    definition = DEFINITIONS[object_kind(object)].get(name)
    if definition is None:
        fail(404, f"Unable to find property {name}", "OBJECT_NOT_FOUND")
    return json_response(definition)


@api()
def list_schemas(ctx, request, token):
    return json_response({"results": []})  # no custom objects in the sandbox account


# -- objects: single ---------------------------------------------------------------------------------

@api("crm.objects.{object}.read")
def list_objects(ctx, request, token, object):
    kind = object_kind(object)
    limit = _int(request.args.get("limit"), "limit", 10)
    if not 1 <= limit <= PAGE_MAX:
        fail(400, f"limit must be between 1 and {PAGE_MAX}")
    after = _int(request.args.get("after"), "after", 0)
    archived = request.args.get("archived", "false").lower() == "true"
    collection = f"{kind}_archived" if archived else kind
    docs = _raw(ctx.state, collection, "key > ?", [after], "key", limit + 1)
    wanted = property_names(request.args.getlist("properties"))
    body = {"results": [render(kind, doc, wanted) for doc in docs[:limit]]}
    if len(docs) > limit:
        cursor = str(docs[limit - 1]["id"])
        body["paging"] = {"next": {"after": cursor, "link": f"{ctx.provider_url}/crm/v3/objects/{kind}?after={cursor}"}}
    return json_response(body)


def _one(ctx, request, kind, id):
    id_property = request.args.get("idProperty") or "hs_object_id"
    check_id_property(kind, id_property)
    doc = find_by(ctx.state, kind, id_property, [id]).get(lookup_key(id_property, id))
    if doc is None:
        fail(404, f"Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND")
    return doc


@api("crm.objects.{object}.read")
def get_object(ctx, request, token, object, id):
    kind = object_kind(object)
    doc = _one(ctx, request, kind, id)
    return json_response(render(kind, doc, property_names(request.args.getlist("properties"))))


@api("crm.objects.{object}.write")
def create_object(ctx, request, token, object):
    kind = object_kind(object)
    body = json_object(request)
    clean, problems = validate_properties(kind, body.get("properties") or {})
    if problems:
        error = input_error(problems)
        fail(400, error["message"], "VALIDATION_ERROR", errors=error["errors"])
    with ctx.state.lock, ctx.state.transaction():
        conflict = duplicate(ctx.state, kind, clean)
        if conflict:
            fail(409, conflict, "CONFLICT")
        doc = new_record(ctx.state, kind, clean, now_iso())
    return json_response(render(kind, doc, list(clean)), 201)


@api("crm.objects.{object}.write")
def update_object(ctx, request, token, object, id):
    kind = object_kind(object)
    body = json_object(request)
    clean, problems = validate_properties(kind, body.get("properties") or {})
    if problems:
        error = input_error(problems)
        fail(400, error["message"], "VALIDATION_ERROR", errors=error["errors"])
    with ctx.state.lock, ctx.state.transaction():
        doc = _one(ctx, request, kind, id)
        conflict = duplicate(ctx.state, kind, clean, doc["id"])
        if conflict:
            fail(409, conflict, "CONFLICT")
        doc = changed_record(ctx.state, kind, doc, clean, now_iso())
    return json_response(render(kind, doc, list(clean)))


@api("crm.objects.{object}.write")
def archive_object(ctx, request, token, object, id):
    kind = object_kind(object)
    with ctx.state.lock, ctx.state.transaction():
        doc = ctx.state.get(kind, _int(id, "objectId", None))
        if doc is not None:
            archive(ctx.state, kind, doc)
    return empty_response(204)


def archive(state, kind, doc):
    stamp = now_iso()
    state.delete(kind, doc["id"])
    state.put(f"{kind}_archived", {**doc, "archived": True, "archivedAt": stamp, "updatedAt": stamp,
                                   "_email": None, "_domain": None, "_external_id": None})


def duplicate(state, kind, clean, own_id=None, matched_on=None) -> str | None:
    """HubSpot's conflict message when a unique value (a contact's email, external_id) is taken.

    `matched_on` names the property the record was just found by, which needs no second look.
    """
    checks = []
    if kind == "contacts" and clean.get("email") and matched_on != "email":
        checks.append(("_email", clean["email"].strip().lower()))
    if clean.get("external_id") and matched_on != "external_id":
        checks.append(("_external_id", clean["external_id"]))
    for field, value in checks:
        found = state.find_one(kind, **{field: value})
        if found is not None and found["id"] != own_id:
            if field == "_email":
                return f"Contact already exists. Existing ID: {found['id']}"
            return (f"A {SINGULAR[kind]} with external_id {value} already exists. "
                    f"Existing ID: {found['id']}")
    return None


# -- objects: batch ----------------------------------------------------------------------------------

@api("crm.objects.{object}.read")
def batch_read(ctx, request, token, object):
    kind = object_kind(object)
    started = now_iso()
    body = json_object(request)
    inputs = batch_inputs(body)
    id_property = body.get("idProperty") or request.args.get("idProperty") or "hs_object_id"
    check_id_property(kind, id_property)
    ids = [str(item.get("id", "")) for item in inputs]
    found = find_by(ctx.state, kind, id_property, ids)
    wanted = property_names(body.get("properties"))
    results, missing, seen = [], [], set()
    for value in ids:
        doc = found.get(lookup_key(id_property, value))
        if doc is None:
            missing.append(value)
        elif doc["id"] not in seen:
            seen.add(doc["id"])
            results.append(render(kind, doc, wanted))
    errors = []
    if missing:
        errors.append(simple_error("OBJECT_NOT_FOUND", f"Could not get some {SINGULAR[kind]} objects, they may be "
                                   f"deleted or not exist. Check that ids are valid.", ids=missing))
    return batch_response(results, errors, started)


@api("crm.objects.{object}.write")
def batch_create(ctx, request, token, object):
    kind = object_kind(object)
    started = now_iso()
    inputs = batch_inputs(json_object(request))
    results, errors = [], []
    with ctx.state.lock, ctx.state.transaction():
        stamp = now_iso()
        for item in inputs:
            trace = item.get("objectWriteTraceId")
            clean, problems = validate_properties(kind, item.get("properties") or {})
            if problems:
                errors.append(input_error(problems, trace))
                continue
            conflict = duplicate(ctx.state, kind, clean)
            if conflict:
                errors.append(simple_error("CONFLICT", conflict, trace))
                continue
            doc = new_record(ctx.state, kind, clean, stamp)
            results.append(traced(item, render(kind, doc, list(clean))))
    return batch_response(results, errors, started, ok_status=201)


@api("crm.objects.{object}.write")
def batch_update(ctx, request, token, object):
    kind = object_kind(object)
    started = now_iso()
    inputs = batch_inputs(json_object(request))
    default_property = request.args.get("idProperty") or "hs_object_id"
    results, errors = [], []
    with ctx.state.lock, ctx.state.transaction():
        stamp = now_iso()
        for item in inputs:
            trace = item.get("objectWriteTraceId")
            id_property = item.get("idProperty") or default_property
            check_id_property(kind, id_property)
            value = str(item.get("id", ""))
            doc = find_by(ctx.state, kind, id_property, [value]).get(lookup_key(id_property, value))
            if doc is None:
                errors.append(simple_error("OBJECT_NOT_FOUND", f"Could not get some {SINGULAR[kind]} objects, they "
                                           f"may be deleted or not exist. Check that ids are valid.", trace, [value]))
                continue
            clean, problems = validate_properties(kind, item.get("properties") or {})
            if problems:
                errors.append(input_error(problems, trace, value))
                continue
            conflict = duplicate(ctx.state, kind, clean, doc["id"])
            if conflict:
                errors.append(simple_error("CONFLICT", conflict, trace, [value]))
                continue
            doc = changed_record(ctx.state, kind, doc, clean, stamp)
            results.append(traced(item, render(kind, doc, list(clean))))
    return batch_response(results, errors, started)


@api("crm.objects.{object}.write")
def batch_upsert(ctx, request, token, object):
    """Create or update on a unique property; one indexed lookup for the whole batch."""
    kind = object_kind(object)
    started = now_iso()
    inputs = batch_inputs(json_object(request))
    default_property = request.args.get("idProperty")
    id_property = None
    for item in inputs:
        chosen = item.get("idProperty") or default_property
        if not chosen:
            fail(400, "idProperty is required for upsert", "VALIDATION_ERROR")
        if id_property not in (None, chosen):
            fail(400, "All inputs of one upsert must use the same idProperty", "VALIDATION_ERROR")
        id_property = chosen
    if not inputs:
        return batch_response([], [], started)
    if id_property == "hs_object_id":
        fail(400, "hs_object_id cannot be used as idProperty for upsert; use batch/update", "VALIDATION_ERROR")
    check_id_property(kind, id_property)
    keys = [lookup_key(id_property, item.get("id", "")) for item in inputs]
    repeated = sorted({key for key in keys if keys.count(key) > 1}) if len(set(keys)) < len(keys) else []
    if repeated:
        fail(400, f"Duplicate IDs found in batch input: {repeated}. IDs must be unique", "VALIDATION_ERROR")
    results, errors = [], []
    with ctx.state.lock, ctx.state.transaction():
        existing = find_by(ctx.state, kind, id_property, keys)
        stamp = now_iso()
        for item, key in zip(inputs, keys):
            trace = item.get("objectWriteTraceId")
            value = str(item.get("id", ""))
            if not value:
                errors.append(simple_error("VALIDATION_ERROR", "id is required for every upsert input", trace))
                continue
            properties = dict(item.get("properties") or {}) if isinstance(item.get("properties"), dict) else \
                item.get("properties")
            if isinstance(properties, dict):
                properties.setdefault(id_property, value)
            clean, problems = validate_properties(kind, properties)
            if problems:
                errors.append(input_error(problems, trace, value))
                continue
            if lookup_key(id_property, clean.get(id_property, value)) != key:
                errors.append(simple_error("VALIDATION_ERROR", f"The {id_property} property must match the id "
                                           f"of the input ({value}).", trace, [value]))
                continue
            doc = existing.get(key)
            conflict = duplicate(ctx.state, kind, clean, doc["id"] if doc else None, id_property)
            if conflict:
                errors.append(simple_error("CONFLICT", conflict, trace, [value]))
                continue
            if doc is None:
                doc = new_record(ctx.state, kind, clean, stamp)
                existing[key] = doc
                created = True
            else:
                doc = changed_record(ctx.state, kind, doc, clean, stamp)
                created = False
            results.append(traced(item, render(kind, doc, list(clean), {"new": created})))
    return batch_response(results, errors, started)


@api("crm.objects.{object}.write")
def batch_archive(ctx, request, token, object):
    kind = object_kind(object)
    inputs = batch_inputs(json_object(request))
    with ctx.state.lock, ctx.state.transaction():
        for item in inputs:
            value = str(item.get("id", ""))
            doc = ctx.state.get(kind, int(value)) if value.isdigit() else None
            if doc is not None:
                archive(ctx.state, kind, doc)
    return empty_response(204)


# -- search -------------------------------------------------------------------------------------------

def _number(definition, value):
    """A comparable form of a property value: epoch ms for dates, floats for numbers, else text."""
    if value is None:
        return None
    if definition and definition["type"] in ("date", "datetime"):
        return to_epoch_ms(value)
    if definition and definition["type"] == "number":
        try:
            return float(value)
        except ValueError:
            return None
    return str(value).lower()


def matches(kind, doc, check) -> bool:
    name, operator = check.get("propertyName"), check.get("operator", "EQ")
    definition = DEFINITIONS[kind].get(name)
    raw = str(doc["id"]) if name in ("hs_object_id", "id") else doc["properties"].get(name)
    if operator == "HAS_PROPERTY":
        return raw not in (None, "")
    if operator == "NOT_HAS_PROPERTY":
        return raw in (None, "")
    actual = _number(definition, raw)
    if operator in ("IN", "NOT_IN"):
        values = {_number(definition, v) for v in check.get("values") or []}
        return (actual in values) == (operator == "IN")
    wanted = _number(definition, check.get("value"))
    if operator == "EQ":
        return actual == wanted
    if operator == "NEQ":
        return actual != wanted
    if operator == "CONTAINS_TOKEN":
        return actual is not None and str(wanted).strip("*") in str(actual)
    if actual is None or wanted is None:
        return False
    try:
        return {"GT": actual > wanted, "GTE": actual >= wanted, "LT": actual < wanted, "LTE": actual <= wanted}[operator]
    except (KeyError, TypeError):
        fail(400, f"Unsupported operator {operator}")


def modified_only(kind, groups, sorts) -> list[tuple[str, int]] | None:
    """The range conditions when the search is just "last modified between ..." sorted by it."""
    names = {"lastmodifieddate", "hs_lastmodifieddate"}
    if len(groups) != 1:
        return None
    conditions = []
    for check in groups[0].get("filters") or []:
        operator = check.get("operator")
        if check.get("propertyName") not in names or operator not in RANGE_OPERATORS:
            return None
        millis = to_epoch_ms(check.get("value"))
        if millis is None:
            fail(400, f"{check.get('value')} is not a valid datetime value")
        conditions.append((RANGE_OPERATORS[operator], millis))
    if not conditions:
        return None
    if any(s.get("propertyName") not in names for s in sorts):
        return None
    return conditions


def _sorts(body):
    sorts = []
    for item in body.get("sorts") or []:
        if isinstance(item, str):  # the short form: "createdate" or "-createdate"
            sorts.append({"propertyName": item.lstrip("-"),
                          "direction": "DESCENDING" if item.startswith("-") else "ASCENDING"})
        elif isinstance(item, dict):
            sorts.append(item)
    return sorts


@api("crm.objects.{object}.read", search=True)
def search(ctx, request, token, object):
    kind = object_kind(object)
    body = json_object(request)
    limit = _int(body.get("limit"), "limit", 10)
    if not 1 <= limit <= SEARCH_PAGE_MAX:
        fail(400, f"limit must be between 1 and {SEARCH_PAGE_MAX}")
    offset = _int(body.get("after"), "after", 0)
    if offset + limit > SEARCH_LIMIT:
        fail(400, f"The search API returns at most {SEARCH_LIMIT} results per query; narrow the filters.",
             "VALIDATION_ERROR")
    groups = body.get("filterGroups") or []
    sorts = _sorts(body)
    wanted = property_names(body.get("properties"))
    fast = modified_only(kind, groups, sorts)
    if fast is not None:
        where = " AND ".join(f"{MODIFIED} {op} ?" for op, _ in fast)
        params = [millis for _, millis in fast]
        direction = "DESC" if sorts and sorts[0].get("direction") == "DESCENDING" else "ASC"
        docs = _raw(ctx.state, kind, where, params, f"{MODIFIED} {direction}", limit, offset)
        total = _raw_count(ctx.state, kind, where, params)
    else:
        docs = searched(ctx, kind, groups, sorts)
        total = len(docs)
        docs = docs[offset:offset + limit]
    answer = {"total": total, "results": [render(kind, doc, wanted) for doc in docs]}
    if offset + limit < total:
        answer["paging"] = {"next": {"after": str(offset + limit)}}
    return json_response(answer)


def searched(ctx, kind, groups, sorts) -> list[dict]:
    """Every record matching any filter group (filters within a group all hold), sorted."""
    candidates = None
    if len(groups) == 1:  # narrow through an index when the only group pins the email or domain
        for check in groups[0].get("filters") or []:
            field = {"contacts": ("email", "_email"), "companies": ("domain", "_domain")}.get(kind, (None, None))
            if field[0] and check.get("propertyName") == field[0] and check.get("operator") in ("EQ", "IN"):
                values = check.get("values") if check.get("operator") == "IN" else [check.get("value")]
                candidates = ctx.state.find(kind, **{field[1]: [str(v).strip().lower() for v in values or []]})
                break
    if candidates is None:
        candidates = ctx.state.find(kind)
    found = [doc for doc in candidates
             if not groups or any(all(matches(kind, doc, c) for c in g.get("filters") or []) for g in groups)]
    for item in reversed(sorts or [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]):
        name = item.get("propertyName")
        definition = DEFINITIONS[kind].get(name)

        def key(doc, name=name, definition=definition):
            value = doc["id"] if name in ("hs_object_id", "id") else _number(definition, doc["properties"].get(name))
            return (value is None, value if value is not None else 0)

        found.sort(key=key, reverse=item.get("direction") == "DESCENDING")
    return found


# -- lists ----------------------------------------------------------------------------------------

def render_list(ctx, doc, size=False, searched=False) -> dict:
    """A list as GET /lists/{id} shows it (with `size`) or as search results do (size under
    `additionalProperties.hs_list_size`)."""
    body = {k: v for k, v in doc.items() if not k.startswith("_") and k != "id"}
    body["listId"] = str(doc["id"])
    members = ctx.state.count("list_members", list_id=doc["id"]) if size or searched else None
    if size:
        body["size"] = members
    if searched:
        body["additionalProperties"] = {"hs_list_size": str(members)}
    return body


def _list(ctx, list_id) -> dict:
    doc = ctx.state.get("lists", _int(list_id, "listId", None))
    if doc is None:
        fail(404, f"List {list_id} does not exist.", "OBJECT_NOT_FOUND")
    return doc


@api("crm.lists.write")
def create_list(ctx, request, token):
    body = json_object(request)
    name, object_type = body.get("name"), body.get("objectTypeId")
    if not name or not object_type:
        fail(400, "name and objectTypeId are required")
    if object_type not in OBJECT_TYPE_IDS.values():
        fail(400, f"Unknown objectTypeId {object_type}")
    processing = body.get("processingType") or "MANUAL"
    if processing not in ("MANUAL", "SNAPSHOT", "DYNAMIC"):
        fail(400, f"processingType must be MANUAL, SNAPSHOT or DYNAMIC")
    if ctx.state.find_one("lists", name=name) is not None:
        fail(400, f"A list named '{name}' already exists.", "VALIDATION_ERROR")
    stamp = now_iso()
    doc = ctx.state.insert("lists", {"name": name, "objectTypeId": object_type, "processingType": processing,
                                     "processingStatus": "COMPLETE", "listVersion": 1, "createdAt": stamp,
                                     "updatedAt": stamp, "filtersUpdatedAt": stamp})
    return json_response({"list": render_list(ctx, doc)})


@api("crm.lists.read")
def search_lists(ctx, request, token):
    body = json_object(request)
    offset = _int(body.get("offset"), "offset", 0)
    count = _int(body.get("count"), "count", 20)
    if not 1 <= count <= LIST_SEARCH_MAX:
        fail(400, f"count must be between 1 and {LIST_SEARCH_MAX}")
    query = str(body.get("query") or "").lower()
    kinds = body.get("processingTypes") or None
    docs = [d for d in ctx.state.find("lists")
            if query in d["name"].lower() and (kinds is None or d["processingType"] in kinds)]
    chunk = docs[offset:offset + count]
    return json_response({"lists": [render_list(ctx, d, searched=True) for d in chunk],
                          "hasMore": offset + count < len(docs), "offset": offset + len(chunk), "total": len(docs)})


@api("crm.lists.read")
def get_list(ctx, request, token, list_id):
    return json_response({"list": render_list(ctx, _list(ctx, list_id), size=True)})


def _member_ids(request) -> list[str]:
    body = read_json(request)
    if not isinstance(body, list):
        fail(400, "The body must be a JSON array of record ids")
    return [str(i) for i in body]


def _change_members(ctx, doc, add: list[str], remove: list[str]) -> dict:
    if doc["processingType"] == "DYNAMIC":
        fail(400, f"List {doc['id']} is DYNAMIC; its memberships cannot be edited.", "VALIDATION_ERROR")
    kind = OBJECT_TYPES[doc["objectTypeId"]]
    added, removed, missing = [], [], []
    with ctx.state.lock, ctx.state.transaction():
        known = {str(d["id"]) for d in ctx.state.find(kind, id=[int(i) for i in add + remove if i.isdigit()])}
        for record in add:
            key = f"{doc['id']}:{record}"
            if record not in known or ctx.state.get("list_members", key) is not None:
                missing.append(record)
                continue
            ctx.state.put("list_members", {"id": key, "list_id": doc["id"], "recordId": record,
                                           "membershipTimestamp": now_iso()})
            added.append(record)
        for record in remove:
            if ctx.state.delete("list_members", f"{doc['id']}:{record}"):
                removed.append(record)
            else:
                missing.append(record)
    return {"recordsIdsAdded": added, "recordIdsRemoved": removed, "recordIdsMissing": missing}


@api("crm.lists.write")
def add_members(ctx, request, token, list_id):
    return json_response(_change_members(ctx, _list(ctx, list_id), _member_ids(request), []))


@api("crm.lists.write")
def remove_members(ctx, request, token, list_id):
    return json_response(_change_members(ctx, _list(ctx, list_id), [], _member_ids(request)))


@api("crm.lists.write")
def add_and_remove_members(ctx, request, token, list_id):
    body = json_object(request)
    add = [str(i) for i in body.get("recordIdsToAdd") or []]
    remove = [str(i) for i in body.get("recordIdsToRemove") or []]
    return json_response(_change_members(ctx, _list(ctx, list_id), add, remove))


@api("crm.lists.read")
def list_members(ctx, request, token, list_id):
    doc = _list(ctx, list_id)
    limit = _int(request.args.get("limit"), "limit", 100)
    offset = _int(request.args.get("after"), "after", 0)
    members = ctx.state.find("list_members", order_by="membershipTimestamp", list_id=doc["id"])
    chunk = members[offset:offset + limit]
    body = {"results": [{"recordId": m["recordId"], "membershipTimestamp": m["membershipTimestamp"]}
                        for m in chunk], "total": len(members)}
    if offset + limit < len(members):
        body["paging"] = {"next": {"after": str(offset + limit)}}
    return json_response(body)


# -- routes ---------------------------------------------------------------------------------------

CRM = "/crm/v3"

RULES = [
    Rule("/oauth/authorize", endpoint=oauth.authorize(OAUTH), methods=["GET", "POST"]),
    Rule("/oauth/v1/token", endpoint=oauth.token(OAUTH), methods=["POST"]),
    Rule("/oauth/v3/token", endpoint=oauth.token(OAUTH), methods=["POST"]),
    Rule("/oauth/v1/access-tokens/<token>", endpoint=token_info, methods=["GET"]),
    Rule("/oauth/v1/refresh-tokens/<token>", endpoint=refresh_token_info, methods=["GET"]),
    Rule("/oauth/v1/refresh-tokens/<token>", endpoint=delete_refresh_token, methods=["DELETE"]),
    Rule(f"{CRM}/properties/<object>", endpoint=list_properties, methods=["GET"]),
    Rule(f"{CRM}/properties/<object>/<name>", endpoint=get_property, methods=["GET"]),
    Rule(f"{CRM}/schemas", endpoint=list_schemas, methods=["GET"]),
    Rule(f"{CRM}/objects/<object>", endpoint=list_objects, methods=["GET"]),
    Rule(f"{CRM}/objects/<object>", endpoint=create_object, methods=["POST"]),
    Rule(f"{CRM}/objects/<object>/batch/read", endpoint=batch_read, methods=["POST"]),
    Rule(f"{CRM}/objects/<object>/batch/create", endpoint=batch_create, methods=["POST"]),
    Rule(f"{CRM}/objects/<object>/batch/update", endpoint=batch_update, methods=["POST"]),
    Rule(f"{CRM}/objects/<object>/batch/upsert", endpoint=batch_upsert, methods=["POST"]),
    Rule(f"{CRM}/objects/<object>/batch/archive", endpoint=batch_archive, methods=["POST"]),
    Rule(f"{CRM}/objects/<object>/search", endpoint=search, methods=["POST"]),
    Rule(f"{CRM}/objects/<object>/<id>", endpoint=get_object, methods=["GET"]),
    Rule(f"{CRM}/objects/<object>/<id>", endpoint=update_object, methods=["PATCH"]),
    Rule(f"{CRM}/objects/<object>/<id>", endpoint=archive_object, methods=["DELETE"]),
    Rule(f"{CRM}/lists", endpoint=create_list, methods=["POST"]),
    Rule(f"{CRM}/lists/search", endpoint=search_lists, methods=["POST"]),
    Rule(f"{CRM}/lists/<list_id>", endpoint=get_list, methods=["GET"]),
    Rule(f"{CRM}/lists/<list_id>/memberships", endpoint=list_members, methods=["GET"]),
    Rule(f"{CRM}/lists/<list_id>/memberships/add", endpoint=add_members, methods=["PUT"]),
    Rule(f"{CRM}/lists/<list_id>/memberships/remove", endpoint=remove_members, methods=["PUT"]),
    Rule(f"{CRM}/lists/<list_id>/memberships/add-and-remove", endpoint=add_and_remove_members, methods=["PUT"]),
]


# -- demo data ------------------------------------------------------------------------------------

def prepare_seed(collection, doc):
    """Complete a record posted to /_sandbox/state/hubspot/<contacts|companies|deals> as {"properties": {...}}."""
    if collection in BUILTIN_PROPERTIES:
        stamp = doc.get("updatedAt") or now_iso()
        properties = {k: str(v) for k, v in (doc.get("properties") or {}).items() if v not in (None, "")}
        properties.setdefault("createdate", doc.get("createdAt") or stamp)
        properties.setdefault(tracking(collection), stamp)
        doc.update(properties=properties, createdAt=doc.get("createdAt") or properties["createdate"],
                   updatedAt=properties[tracking(collection)], archived=False,
                   _modified=to_epoch_ms(properties[tracking(collection)]), **lookups(collection, properties))
    elif collection == "lists":
        stamp = now_iso()
        for key, value in (("objectTypeId", "0-1"), ("processingType", "MANUAL"), ("processingStatus", "COMPLETE"),
                           ("listVersion", 1), ("createdAt", stamp), ("updatedAt", stamp)):
            doc.setdefault(key, value)
    return doc


CONTACTS = [
    ("ada@lovelace.example", "Ada", "Lovelace", "customer"),
    ("grace@hopper.example", "Grace", "Hopper", "lead"),
]
COMPANIES = [("Lovelace Analytics", "lovelace.example", "COMPUTER_SOFTWARE"),
             ("Hopper Compilers", "hopper.example", "COMPUTER_SOFTWARE")]


DEALS = [("Lovelace Analytics renewal", "12000", "contractsent"), ("Hopper Compilers pilot", "4500", "closedwon")]


def seed(state):
    stamp = "2026-01-05T09:00:00.000Z"
    for email, first, last, stage in CONTACTS:
        new_record(state, "contacts", {"email": email, "firstname": first, "lastname": last,
                                       "lifecyclestage": stage}, stamp)
    for name, domain, industry in COMPANIES:
        new_record(state, "companies", {"name": name, "domain": domain, "industry": industry}, stamp)
    for name, amount, stage in DEALS:
        new_record(state, "deals", {"dealname": name, "amount": amount, "dealstage": stage, "pipeline": "default"},
                   stamp)
    for name, object_type, processing in (("Newsletter subscribers", "0-1", "MANUAL"),
                                          ("Target accounts", "0-2", "SNAPSHOT"),
                                          ("Active customers (dynamic)", "0-1", "DYNAMIC")):
        state.insert("lists", {"name": name, "objectTypeId": object_type, "processingType": processing,
                               "processingStatus": "COMPLETE", "listVersion": 1, "createdAt": stamp,
                               "updatedAt": stamp, "filtersUpdatedAt": stamp})
