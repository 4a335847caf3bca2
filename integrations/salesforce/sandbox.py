"""Salesforce REST API emulation: OAuth web-server flow, describe, SOQL, sObject
collections, Bulk API 2.0 ingest and query jobs.

Follows the REST API and Bulk API 2.0 developer guides: the token response names
the `instance_url` every data call goes to (here the sandbox's /salesforce), and
carries no `expires_in`; errors are JSON lists `[{"message", "errorCode"}]`
(collection results say `statusCode`); every data response has
`Sforce-Limit-Info: api-usage=N/M` and the daily allocation, once spent, answers
403 REQUEST_LIMIT_EXCEEDED. Objects and fields come from sandbox_schema, SOQL
from sandbox_soql.

Records live in one collection per sObject ("Contact", "Lead", ...), keyed by
their 18-character Id. Deleted records stay with IsDeleted = true (the recycle
bin): `query` skips them, `queryAll` returns them.

Choices where the docs say nothing precise (connectors should not depend on them):
- A value of the wrong type fails that record with INVALID_TYPE_ON_FIELD_IN_RECORD
  instead of failing the whole request with JSON_PARSER_ERROR.
- Bulk `sf__Error` reads "CODE:message:Field1,Field2 --".
- Ingest results are fetchable once the job is JobComplete, Failed or Aborted.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import threading
from collections import OrderedDict
from datetime import date, datetime, timezone

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from integrations.sandbox import oauth, ratelimit
from integrations.sandbox.http import abort_with, empty_response, json_response, now, read_json, read_params
from .sandbox_schema import BY_PREFIX, NUMBER_TYPES, SOBJECTS, make_id, sobject, to_18
from .sandbox_soql import (
    BoolOp, Comparison, Evaluator, SoqlError, expand_select, format_datetime, parse, parse_datetime,
)

NAME = "salesforce"
PREFIX = "/salesforce"
DATA = "/services/data/v<version>"

SETTINGS = {
    "salesforce_daily_api_requests": 100_000,  # the org's rolling 24-hour allocation
    "salesforce_bulk_seconds": 0.5,  # how long an ingest job stays in progress
}
INDEXES = ("_email", "_extid")

VERSIONS = [f"{n}.0" for n in range(31, 68)]
COLLECTION_LIMIT = 200
PAGE_SIZE = 2000
MIN_PAGE_SIZE = 200
CURSORS_KEPT = 500
UPLOAD_LIMIT = 150 * 1024 * 1024
ORG_ID = make_id("00D", 1)
USER_ID = make_id("005", 1)
USERNAME = "admin@sandbox.example"
EXTERNAL_ID_FIELDS = {name: next((f["name"] for f in obj.fields if f["externalId"]), None)
                      for name, obj in SOBJECTS.items()}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DELIMITERS = {"COMMA": ",", "TAB": "\t", "SEMICOLON": ";", "PIPE": "|", "CARET": "^", "BACKQUOTE": "`"}
OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
FINISHED = ("JobComplete", "Failed", "Aborted")


# -- errors ---------------------------------------------------------------------

ERROR_CODES = {400: "BAD_REQUEST", 401: "INVALID_SESSION_ID", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 415: "UNSUPPORTED_MEDIA_TYPE",
               429: "REQUEST_LIMIT_EXCEEDED", 500: "UNKNOWN_EXCEPTION", 502: "SERVER_UNAVAILABLE",
               503: "SERVER_UNAVAILABLE"}


def error_response(ctx, status, message, headers=None):
    if status == 404 and message == "Not Found":
        message = "The requested resource does not exist"
    code = ERROR_CODES.get(status, "UNKNOWN_EXCEPTION")
    return json_response([{"message": message, "errorCode": code}], status, headers)


def fail(status, code, message, **extra):
    abort_with(json_response([{"message": message, "errorCode": code, **extra}], status))


def not_found():
    fail(404, "NOT_FOUND", "The requested resource does not exist")


class RecordError(Exception):
    """One record refused: Salesforce's status code, message and the fields concerned."""

    def __init__(self, code, message, fields=()):
        super().__init__(message)
        self.code, self.message, self.fields = code, message, list(fields)

    def as_dict(self):
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}

    def as_bulk(self):
        return f"{self.code}:{self.message}:{','.join(self.fields)} --"


# -- OAuth ----------------------------------------------------------------------

def _unauthorized(ctx, reason):
    return json_response([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], 401,
                         {"WWW-Authenticate": 'Token'})


TOKEN_ERRORS = {"invalid_client": "invalid client credentials",
                "invalid_grant": "authentication failure",
                "unsupported_grant_type": "grant type not supported",
                "invalid_request": "invalid request"}


def _token_error(ctx, status, error, description):
    if error == "invalid_grant" and "refresh token" in description:
        description = "expired access/refresh token"
    elif error == "invalid_grant" and "redirect_uri" in description:
        description = "redirect_uri must match configuration"
    elif error in TOKEN_ERRORS and error != "invalid_grant":
        description = TOKEN_ERRORS[error]
    return json_response({"error": error, "error_description": description}, 400)


def identity_url(ctx):
    return f"{ctx.provider_url}/id/{ORG_ID}/{USER_ID}"


def _token_extras(ctx, token):
    return {"instance_url": ctx.provider_url, "id": identity_url(ctx),
            "issued_at": str(int(token["issued_at"] * 1000)),
            "signature": secrets.token_urlsafe(32)}


OAUTH = oauth.OAuthConfig(
    name="Salesforce",
    scopes=("api", "refresh_token"),
    token_extras=_token_extras,
    rotate_refresh_tokens=False,
    refresh_in_refresh_response=False,
    send_expires_in=False,
    pkce=True,
    token_type="Bearer",
    api_key_bearer=True,
    api_keys=({"id": "sandbox-api-key", "name": "Sandbox session id"},),
    unauthorized=_unauthorized,
    token_error=_token_error,
)

_generic_token = oauth.token(OAUTH)


def token(ctx, request, **_):
    """The generic code and refresh grants (with PKCE), plus the client-credentials flow."""
    params = read_params(request, query=True)
    if params.get("grant_type") != "client_credentials":
        return _generic_token(ctx, request)
    client = ctx.state.get("oauth_clients", params.get("client_id") or "")
    if client is None or not secrets.compare_digest(str(params.get("client_secret") or ""), client["client_secret"]):
        return _token_error(ctx, 400, "invalid_client", "")
    access = oauth._issue_access(ctx, client["id"], ["api"], secrets.token_hex(8))
    body = {"access_token": access["id"], "token_type": "Bearer", "scope": "api", **_token_extras(ctx, access)}
    return json_response(body, headers={"Cache-Control": "no-store"})


def identity(ctx, request, org=None, user=None):
    oauth.authenticate(ctx, request)
    return json_response({
        "id": identity_url(ctx), "user_id": USER_ID, "organization_id": ORG_ID, "username": USERNAME,
        "email": USERNAME, "display_name": "Sandy Admin", "active": True, "user_type": "STANDARD",
        "urls": {"rest": f"{ctx.provider_url}/services/data/v{{version}}/",
                 "sobjects": f"{ctx.provider_url}/services/data/v{{version}}/sobjects/"},
    })


def userinfo(ctx, request):
    oauth.authenticate(ctx, request)
    return json_response({"sub": identity_url(ctx), "user_id": USER_ID, "organization_id": ORG_ID,
                          "preferred_username": USERNAME, "email": USERNAME, "name": "Sandy Admin"})


# -- the data API wrapper ------------------------------------------------------------

def api(handler):
    """Check the version, authenticate, spend the daily allocation, stamp Sforce-Limit-Info."""

    def wrapped(ctx, request, version, **values):
        if version not in VERSIONS:
            not_found()
        oauth.authenticate(ctx, request)
        budget = int(ctx.settings["salesforce_daily_api_requests"])
        allowed, remaining, _ = ratelimit.fixed_window(ctx.state, ("salesforce", "daily"), budget, 1, 86400.0)
        used = budget - remaining
        headers = {"Sforce-Limit-Info": f"api-usage={used}/{budget}"}
        if not allowed:
            response = json_response([{"message": "TotalRequests Limit exceeded.",
                                       "errorCode": "REQUEST_LIMIT_EXCEEDED"}], 403)
        else:
            try:
                response = handler(ctx, request, version=version, **values)
            except HTTPException as exc:  # an abort_with answer still gets the header
                if exc.response is None:
                    raise
                response = exc.response
        response.headers.update(headers)
        return response

    return wrapped


def versions(ctx, request):
    return json_response([{"label": f"Version {v}", "url": f"/services/data/v{v}", "version": v} for v in VERSIONS])


@api
def resources(ctx, request, version):
    base = f"/services/data/v{version}"
    return json_response({name: f"{base}/{name}" for name in (
        "sobjects", "query", "queryAll", "composite", "jobs", "limits")})


@api
def limits(ctx, request, version):
    budget = int(ctx.settings["salesforce_daily_api_requests"])
    _, remaining, _ = ratelimit.fixed_window(ctx.state, ("salesforce", "daily"), budget, 0, 86400.0)
    return json_response({"DailyApiRequests": {"Max": budget, "Remaining": remaining},
                          "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                          "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000}})


@api
def record_count(ctx, request, version):
    """Each named object's record count (/limits/recordCount?sObjects=Contact,Lead)."""
    names = [n for n in request.args.get("sObjects", "").split(",") if n.strip()]
    objects = [sobject(n.strip()) for n in names] if names else list(SOBJECTS.values())
    return json_response({"sObjects": [{"count": ctx.state.count(obj.name), "name": obj.name}
                                       for obj in objects if obj is not None]})


def object_or_404(name):
    obj = sobject(name)
    if obj is None:
        not_found()
    return obj


# -- describe -------------------------------------------------------------------------

@api
def describe_global(ctx, request, version):
    return json_response({"encoding": "UTF-8", "maxBatchSize": COLLECTION_LIMIT,
                          "sobjects": [obj.summary(version) for obj in SOBJECTS.values()]})


@api
def basic_info(ctx, request, version, name):
    obj = object_or_404(name)
    recent = ctx.state.find(obj.name, IsDeleted=False)[-5:]
    return json_response({"objectDescribe": obj.summary(version),
                          "recentItems": [render(obj, r, version, [("Id",), ("Name",)]) for r in recent]})


SCHEMA_CHANGED = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)  # when the objects were last changed


@api
def describe(ctx, request, version, name):
    """The object's metadata; 304 when it has not changed since If-Modified-Since."""
    obj = object_or_404(name)
    since = request.if_modified_since
    if since is not None and since >= SCHEMA_CHANGED:
        return empty_response(304)
    return json_response(obj.describe(version))


# -- records ------------------------------------------------------------------------

def stamp():
    return format_datetime(datetime.now(timezone.utc))


def lower(value):
    return str(value).strip().lower() if value not in (None, "") else None


def derived(obj, doc):
    """Lookup keys and computed fields kept beside a record's own values."""
    if obj.field("Email") is not None:
        doc["_email"] = lower(doc.get("Email"))
    ext = EXTERNAL_ID_FIELDS.get(obj.name)
    if ext:
        doc["_extid"] = lower(doc.get(ext))
    if obj.name in ("Contact", "Lead"):
        doc["Name"] = " ".join(p for p in (doc.get("FirstName"), doc.get("LastName")) if p) or None
    return doc


def new_id(state, obj):
    return make_id(obj.key_prefix, state.next_id(f"ids_{obj.key_prefix}"))


def render(obj, doc, version, paths=None, parent=None):
    """A record as the API shows it: attributes first, then the fields asked for (all by default)."""
    out = {"attributes": {"type": obj.name, "url": f"/services/data/v{version}/sobjects/{obj.name}/{doc['Id']}"}}
    if paths is None:
        paths = [(f["name"],) for f in obj.fields]
    for path in paths:
        if len(path) == 1:
            out[path[0]] = doc.get(path[0])
            continue
        ref = obj.relationships[path[0].lower()]
        parent_obj = sobject(ref["referenceTo"][0])
        parent_doc = parent(parent_obj.name, doc.get(ref["name"])) if parent and doc.get(ref["name"]) else None
        if parent_doc is None:
            out.setdefault(path[0], None)
            continue
        nested = out.get(path[0]) or {"attributes": {
            "type": parent_obj.name, "url": f"/services/data/v{version}/sobjects/{parent_obj.name}/{parent_doc['Id']}"}}
        nested[path[1]] = parent_doc.get(path[1])
        out[path[0]] = nested
    return out


def find_live(state, obj, record_id):
    """(doc, error) for an Id: the live record, or why there is none."""
    full = to_18(record_id)
    if full is None:
        return None, RecordError("MALFORMED_ID", f"malformed id {record_id}")
    if BY_PREFIX.get(full[:3]) is not obj:
        return None, RecordError("MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}", ["Id"])
    doc = state.get(obj.name, full)
    if doc is None:
        return None, RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
    if doc.get("IsDeleted"):
        return None, RecordError("ENTITY_IS_DELETED", "entity is deleted")
    return doc, None


def coerce(state, obj, field, value):
    """A value written to a field, checked and converted as Salesforce stores it."""
    name, label, ftype = field["name"], field["label"], field["type"]
    if isinstance(value, str) and value == "" and ftype != "boolean":
        value = None
    if value is None:
        if ftype == "boolean":
            return False
        return None

    def wrong():
        return RecordError("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{label}: value not of required type: {value}", [name])

    if ftype == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        raise wrong()
    if ftype in NUMBER_TYPES:
        if isinstance(value, bool):
            raise wrong()
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise wrong() from None
        if ftype == "int":
            if number != int(number):
                raise wrong()
            return int(number)
        return number
    if ftype == "date":
        try:
            return date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise wrong() from None
    if ftype == "datetime":
        text = str(value).strip()
        try:
            moment = parse_datetime(text) if "T" in text or " " in text else datetime.fromisoformat(text[:10])
        except ValueError:
            raise wrong() from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return format_datetime(moment)
    if ftype in ("reference", "id"):
        full = to_18(str(value))
        if full is None:
            raise RecordError("MALFORMED_ID", f"{label}: id value of incorrect type: {value}", [name])
        target = sobject(field["referenceTo"][0]) if field["referenceTo"] else obj
        if BY_PREFIX.get(full[:3]) is not target:
            raise RecordError("FIELD_INTEGRITY_EXCEPTION", f"{label}: id value of incorrect type: {value}", [name])
        parent = state.get(target.name, full)
        if parent is None or parent.get("IsDeleted"):
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", f"{label}: invalid cross reference id", [name])
        return full
    if isinstance(value, (dict, list)):
        raise wrong()
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if field["length"] and len(text) > field["length"]:
        raise RecordError("STRING_TOO_LONG", f"{label}: data value too large: {text[:40]} "
                                             f"(max length={field['length']})", [name])
    if ftype == "email" and not EMAIL.match(text):
        raise RecordError("INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {text}", [name])
    if ftype == "picklist" and field["restrictedPicklist"]:
        if text not in {p["value"] for p in field["picklistValues"]}:
            raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              f"{label}: bad value for restricted picklist field: {text}", [name])
    return text


def clean(state, obj, values: dict, creating: bool) -> dict:
    """The fields of a write as {canonical name: stored value}, or RecordError.

    `values` names fields as the caller wrote them; unknown names must have been
    refused before (a whole-request error), so they are not expected here.
    """
    cleaned, locked = {}, []
    for key, value in values.items():
        field = obj.field(key)
        if field is None:
            raise RecordError("INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}", [key])
        if not field["createable" if creating else "updateable"]:
            locked.append(field["name"])
            continue
        cleaned[field["name"]] = value
    if locked:
        raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE",
                          f"Unable to {'create' if creating else 'update'} fields: {', '.join(locked)}. Please check "
                          "the security settings of this field and verify that it is read/write for your profile "
                          "or permission set.", locked)
    for name in list(cleaned):
        cleaned[name] = coerce(state, obj, obj.field(name), cleaned[name])
    missing = [name for name in obj.required_on_create() if cleaned.get(name) is None
               and (creating or name in cleaned)]
    if missing:
        raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
    return cleaned


def check_unique(state, obj, values, own_id=None):
    ext = EXTERNAL_ID_FIELDS.get(obj.name)
    if not ext or values.get(ext) is None:
        return
    for other in state.find(obj.name, _extid=lower(values[ext])):
        if other["Id"] != own_id and not other.get("IsDeleted"):
            raise RecordError("DUPLICATE_VALUE", f"duplicate value found: {ext} duplicates value on record with id: "
                                                 f"{other['Id']}", [])


def insert_record(state, obj, values: dict) -> dict:
    cleaned = clean(state, obj, values, creating=True)
    check_unique(state, obj, cleaned)
    moment = stamp()
    record_id = new_id(state, obj)
    doc = {"id": record_id, "Id": record_id, "IsDeleted": False, "CreatedDate": moment, "CreatedById": USER_ID,
           "LastModifiedDate": moment, "LastModifiedById": USER_ID, "SystemModstamp": moment}
    if obj.field("OwnerId") is not None:
        doc["OwnerId"] = USER_ID
    doc.update({f["name"]: False for f in obj.fields if f["type"] == "boolean"})
    doc.update(obj.defaults())
    doc.update({k: v for k, v in cleaned.items() if v is not None or k not in doc})
    return state.insert(obj.name, derived(obj, doc))


def update_record(state, obj, doc: dict, values: dict) -> dict:
    if obj.name == "Lead" and doc.get("IsConverted"):
        raise RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
    cleaned = clean(state, obj, values, creating=False)
    check_unique(state, obj, cleaned, own_id=doc["Id"])
    moment = stamp()
    doc = {**doc, **cleaned, "LastModifiedDate": moment, "LastModifiedById": USER_ID, "SystemModstamp": moment}
    return state.put(obj.name, derived(obj, doc))


def delete_record(state, obj, doc: dict, hard: bool = False):
    if hard:
        state.delete(obj.name, doc["Id"])
        return
    moment = stamp()
    state.put(obj.name, {**doc, "IsDeleted": True, "LastModifiedDate": moment, "SystemModstamp": moment})


def find_by_external(state, obj, ext_field, value) -> list[dict]:
    if ext_field == "Id":
        doc, _ = find_live(state, obj, str(value))
        return [doc] if doc else []
    return [d for d in state.find(obj.name, _extid=lower(value)) if not d.get("IsDeleted")]


def upsert_record(state, obj, ext_field, values: dict) -> tuple[dict, bool]:
    """(doc, created) for one record matched on `ext_field`."""
    key = next((k for k in values if k.lower() == ext_field.lower()), None)
    value = values.get(key) if key else None
    if value in (None, ""):
        if ext_field == "Id":
            return insert_record(state, obj, {k: v for k, v in values.items() if k != key}), True
        raise RecordError("MISSING_ARGUMENT", f"{ext_field} not specified", [ext_field])
    matches = find_by_external(state, obj, ext_field, value)
    if len(matches) > 1:
        raise RecordError("DUPLICATE_EXTERNAL_ID", f"{obj.field(ext_field)['label']}: more than one record found "
                                                   f"for external id field: {[m['Id'] for m in matches]}", [ext_field])
    if matches:
        rest = {k: v for k, v in values.items() if k != key or ext_field != "Id"}
        return update_record(state, obj, matches[0], rest), False
    if ext_field == "Id":
        raise RecordError("NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {value}")
    return insert_record(state, obj, values), True


def external_field(obj, name):
    """The field an upsert matches on: Id or an External ID field; else the whole request fails."""
    if name.lower() == "id":
        return "Id"
    field = obj.field(name)
    if field is None:
        fail(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}")
    if not field["externalId"]:
        fail(400, "INVALID_FIELD", f"Field name provided, {field['name']} is not an External ID or indexed field "
                                   f"for {obj.name}")
    return field["name"]


# -- single records -------------------------------------------------------------------

def body_object(request) -> dict:
    body = read_json(request)
    if not isinstance(body, dict):
        fail(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return body


def unknown_fields(obj, values):
    for key in values:
        if key != "attributes" and obj.field(key) is None:
            fail(400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}")


def single_error(error: RecordError, status=400):
    return json_response([{"message": error.message, "errorCode": error.code, "fields": error.fields}], status)


@api
def create_one(ctx, request, version, name):
    obj = object_or_404(name)
    values = {k: v for k, v in body_object(request).items() if k != "attributes"}
    unknown_fields(obj, values)
    if any(k.lower() == "id" for k in values):
        return single_error(RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]))
    try:
        with ctx.state.lock, ctx.state.transaction():
            doc = insert_record(ctx.state, obj, values)
    except RecordError as error:
        return single_error(error)
    return json_response({"id": doc["Id"], "success": True, "errors": []}, 201)


@api
def get_one(ctx, request, version, name, record_id):
    obj = object_or_404(name)
    doc, error = find_live(ctx.state, obj, record_id)
    if error is not None:
        not_found()
    wanted = request.args.get("fields")
    paths = None
    if wanted:
        paths = []
        for part in wanted.split(","):
            field = obj.field(part.strip())
            if field is None:
                fail(400, "INVALID_FIELD", f"No such column '{part.strip()}' on entity '{obj.name}'")
            paths.append((field["name"],))
    return json_response(render(obj, doc, version, paths))


@api
def update_one(ctx, request, version, name, record_id):
    obj = object_or_404(name)
    values = {k: v for k, v in body_object(request).items() if k != "attributes"}
    unknown_fields(obj, values)
    with ctx.state.lock:
        doc, error = find_live(ctx.state, obj, record_id)
        if error is not None:
            return single_error(error, 404 if error.code == "INVALID_CROSS_REFERENCE_KEY" else 400)
        try:
            with ctx.state.transaction():
                update_record(ctx.state, obj, doc, values)
        except RecordError as error:
            return single_error(error)
    return empty_response(204)


@api
def delete_one(ctx, request, version, name, record_id):
    obj = object_or_404(name)
    with ctx.state.lock:
        doc, error = find_live(ctx.state, obj, record_id)
        if error is not None:
            return single_error(error, 404)
        delete_record(ctx.state, obj, doc)
    return empty_response(204)


@api
def upsert_one(ctx, request, version, name, field, value):
    obj = object_or_404(name)
    ext = external_field(obj, field)
    values = {k: v for k, v in body_object(request).items() if k != "attributes"}
    unknown_fields(obj, values)
    if ext != "Id" and any(k.lower() == "id" for k in values):
        return single_error(RecordError("INVALID_FIELD", "Id not allowed in an upsert body", ["Id"]))
    values[ext] = value
    try:
        with ctx.state.lock, ctx.state.transaction():
            doc, created = upsert_record(ctx.state, obj, ext, values)
    except RecordError as error:
        return single_error(error, 404 if error.code == "NOT_FOUND" else 400)
    return json_response({"id": doc["Id"], "success": True, "errors": [], "created": created}, 201 if created else 200)


# -- sObject collections -----------------------------------------------------------------

def collection_body(request, require_records=True):
    body = body_object(request)
    records = body.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        fail(400, "JSON_PARSER_ERROR", "records must be a list of sObjects")
    if len(records) > COLLECTION_LIMIT:
        fail(400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records "
                                       "into this call")
    typed = []
    for record in records:
        type_name = (record.get("attributes") or {}).get("type")
        if not type_name:
            fail(400, "INVALID_TYPE", "Must send a concrete entity type.")
        obj = sobject(type_name)
        if obj is None:
            fail(400, "INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
        values = {k: v for k, v in record.items() if k != "attributes"}
        unknown_fields(obj, values)
        typed.append((obj, values))
    return bool(body.get("allOrNone")), typed


class RolledBack(Exception):
    pass


def run_collection(ctx, all_or_none, items, work) -> list[dict]:
    """Apply `work(item) -> result dict` to every item in one transaction; all-or-none rolls back."""
    results = []
    with ctx.state.lock:
        try:
            with ctx.state.transaction():
                for item in items:
                    try:
                        results.append({**work(item), "success": True, "errors": []})
                    except RecordError as error:
                        results.append({"success": False, "errors": [error.as_dict()]})
                if all_or_none and not all(r["success"] for r in results):
                    raise RolledBack()
        except RolledBack:
            rolled = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                      "message": "Record rolled back because not all records were valid and the request was using "
                                 "AllOrNone header", "fields": []}
            results = [{"success": False, "errors": r["errors"] if not r["success"] else [rolled]} for r in results]
    return results


@api
def collection_insert(ctx, request, version):
    all_or_none, typed = collection_body(request)

    def work(item):
        obj, values = item
        if any(k.lower() == "id" for k in values):
            raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        return {"id": insert_record(ctx.state, obj, values)["Id"]}

    return json_response(run_collection(ctx, all_or_none, typed, work))


@api
def collection_update(ctx, request, version):
    all_or_none, typed = collection_body(request)

    def work(item):
        obj, values = item
        key = next((k for k in values if k.lower() == "id"), None)
        if key is None or not values[key]:
            raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", [])
        doc, error = find_live(ctx.state, obj, str(values[key]))
        if error is not None:
            raise error
        update_record(ctx.state, obj, doc, {k: v for k, v in values.items() if k != key})
        return {"id": doc["Id"]}

    return json_response(run_collection(ctx, all_or_none, typed, work))


@api
def collection_upsert(ctx, request, version, name, field):
    obj = object_or_404(name)
    ext = external_field(obj, field)
    all_or_none, typed = collection_body(request)
    counts = {}
    for item_obj, values in typed:
        value = next((v for k, v in values.items() if k.lower() == ext.lower()), None)
        if value not in (None, ""):
            counts[lower(value)] = counts.get(lower(value), 0) + 1

    def work(item):
        item_obj, values = item
        if item_obj is not obj:
            raise RecordError("INVALID_TYPE", f"This request accepts {obj.name} records only", [])
        if ext != "Id" and any(k.lower() == "id" for k in values):
            raise RecordError("INVALID_FIELD", "Id not allowed in an upsert body; use the external ID field", ["Id"])
        value = next((v for k, v in values.items() if k.lower() == ext.lower()), None)
        if value not in (None, "") and counts.get(lower(value), 0) > 1:
            raise RecordError("DUPLICATE_VALUE", f"Duplicate external id specified: {value}", [ext])
        doc, created = upsert_record(ctx.state, obj, ext, values)
        return {"id": doc["Id"], "created": created}

    return json_response(run_collection(ctx, all_or_none, typed, work))


@api
def collection_delete(ctx, request, version):
    ids = [i for i in (request.args.get("ids") or "").split(",") if i]
    if not ids:
        fail(400, "MISSING_ARGUMENT", "ids parameter is required")
    if len(ids) > COLLECTION_LIMIT:
        fail(400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records "
                                       "into this call")
    all_or_none = (request.args.get("allOrNone") or "").lower() == "true"

    def work(record_id):
        full = to_18(record_id)
        obj = BY_PREFIX.get(full[:3]) if full else None
        if obj is None:
            raise RecordError("MALFORMED_ID", f"malformed id {record_id}", [])
        doc, error = find_live(ctx.state, obj, record_id)
        if error is not None:
            raise error
        delete_record(ctx.state, obj, doc)
        return {"id": doc["Id"]}

    results = run_collection(ctx, all_or_none, ids, work)
    for record_id, result in zip(ids, results):
        result.setdefault("id", to_18(record_id) or record_id)
    return json_response(results)


@api
def collection_retrieve(ctx, request, version, name):
    obj = object_or_404(name)
    params = read_params(request, query=True)
    ids = params.get("ids") or []
    fields = params.get("fields") or []
    ids = ids.split(",") if isinstance(ids, str) else ids
    fields = fields.split(",") if isinstance(fields, str) else fields
    if not ids or not fields:
        fail(400, "MISSING_ARGUMENT", "ids and fields are required")
    paths = []
    for name_ in fields:
        field = obj.field(name_.strip())
        if field is None:
            fail(400, "INVALID_FIELD", f"No such column '{name_.strip()}' on entity '{obj.name}'")
        paths.append((field["name"],))
    out = []
    for record_id in ids:
        doc, error = find_live(ctx.state, obj, record_id.strip())
        out.append(render(obj, doc, version, paths) if doc else None)
    return json_response(out)


# -- SOQL --------------------------------------------------------------------------------

def cursors(state) -> OrderedDict:
    return state.scratch.setdefault("salesforce_cursors", OrderedDict())


def lookup_keys(obj, node):
    """(kind, values) when the WHERE clause pins the records by Id, Email or the External ID."""
    parts = node.parts if isinstance(node, BoolOp) and node.op == "and" else [node]
    ext = EXTERNAL_ID_FIELDS.get(obj.name)
    for part in parts:
        if not isinstance(part, Comparison) or len(part.path) != 1 or part.op not in ("=", "in"):
            continue
        literals = part.value if part.op == "in" else [part.value]
        if not all(lit.kind == "string" for lit in literals):
            continue
        values = [lit.value for lit in literals]
        if part.path[0] == "Id":
            return "id", [to_18(v) for v in values if to_18(v)]
        if part.path[0] == "Email" and obj.field("Email") is not None:
            return "_email", [v.strip().lower() for v in values]
        if ext and part.path[0] == ext:
            return "_extid", [v.strip().lower() for v in values]
    return None


def run_query(ctx, text, include_deleted):
    try:
        query = parse(text)
    except SoqlError as error:
        fail(400, error.code, error.message)
    obj = query.sobject
    keys = lookup_keys(obj, query.where) if query.where is not None else None
    docs = ctx.state.find(obj.name, **{keys[0]: keys[1]}) if keys else ctx.state.find(obj.name)
    if not include_deleted:
        docs = [d for d in docs if not d.get("IsDeleted")]

    def parent(name, record_id):
        return ctx.state.get(name, record_id)

    try:
        rows = Evaluator(query, parent).run(docs)
    except SoqlError as error:
        fail(400, error.code, error.message)
    return query, rows


def plain_ids(ctx, text, include_deleted):
    """(query, ids) for a query of records without WHERE, LIMIT or OFFSET sorted by the record's own
    fields (a full export), its order read inside sqlite rather than from every decoded record."""
    try:
        query = parse(text)
    except SoqlError:
        return None
    if (query.where is not None or query.count_only or query.count_field or query.limit is not None
            or query.offset or any(len(path) != 1 for path, _, _ in query.order)):
        return None
    order = [(path[0], descending, nulls_last) for path, descending, nulls_last in query.order]
    return query, ctx.state.ordered_keys(query.sobject.name, order, None if include_deleted else "IsDeleted")


def query_page(ctx, version, endpoint, query, ids, offset, page_size, parent):
    obj = query.sobject
    paths = expand_select(query)
    docs = ctx.state.get_many(obj.name, ids[offset:offset + page_size])
    records = [render(obj, docs[record_id], version, paths, parent)
               for record_id in ids[offset:offset + page_size] if record_id in docs]
    body = {"totalSize": len(ids), "done": offset + page_size >= len(ids), "records": records}
    if not body["done"]:
        with ctx.state.lock:
            kept = cursors(ctx.state)
            locator = make_id("01g", secrets.randbits(48))[:15]
            kept[locator] = {"text": query.text, "ids": ids, "page_size": page_size, "endpoint": endpoint}
            while len(kept) > CURSORS_KEPT:
                kept.popitem(last=False)
        body["nextRecordsUrl"] = f"/services/data/v{version}/{endpoint}/{locator}-{offset + page_size}"
    return json_response(body)


def page_size_of(request):
    options = request.headers.get("Sforce-Query-Options", "")
    found = re.search(r"batchSize\s*=\s*(\d+)", options)
    if not found:
        return PAGE_SIZE
    return max(MIN_PAGE_SIZE, min(PAGE_SIZE, int(found.group(1))))


def soql(endpoint, include_deleted):
    @api
    def handler(ctx, request, version):
        text = request.args.get("q")
        if not text:
            fail(400, "MALFORMED_QUERY", "A query string has to be specified")
        if plain := plain_ids(ctx, text, include_deleted):
            query, ids = plain
            query.text = text
            return query_page(ctx, version, endpoint, query, ids, 0, page_size_of(request),
                              lambda name, record_id: ctx.state.get(name, record_id))
        query, rows = run_query(ctx, text, include_deleted)
        query.text = text
        if query.count_only:
            return json_response({"totalSize": len(rows), "done": True, "records": []})
        if query.count_field:
            return json_response({"totalSize": 1, "done": True, "records": [
                {"attributes": {"type": "AggregateResult"}, "expr0": len(rows)}]})
        return query_page(ctx, version, endpoint, query, [r["Id"] for r in rows], 0, page_size_of(request),
                          lambda name, record_id: ctx.state.get(name, record_id))

    return handler


@api
def query_more(ctx, request, version, locator):
    cursor_id, _, offset = locator.rpartition("-")
    with ctx.state.lock:
        cursor = cursors(ctx.state).get(cursor_id)
    if cursor is None or not offset.isdigit():
        fail(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    query = parse(cursor["text"])
    query.text = cursor["text"]
    return query_page(ctx, version, cursor["endpoint"], query, cursor["ids"], int(offset), cursor["page_size"],
                      lambda name, record_id: ctx.state.get(name, record_id))


# -- Bulk API 2.0 ingest ----------------------------------------------------------------

def job_or_404(ctx, job_id):
    job = ctx.state.get("ingest_jobs", job_id)
    if job is None:
        not_found()
    return job


def render_job(job, full=True):
    keys = ["id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state",
            "externalIdFieldName", "concurrencyMode", "contentType", "apiVersion", "jobType", "lineEnding",
            "columnDelimiter"]
    out = {k: job.get(k) for k in keys}
    if job.get("externalIdFieldName") is None:
        out.pop("externalIdFieldName")
    if full:
        out.update({k: job.get(k, 0) for k in ("numberRecordsProcessed", "numberRecordsFailed", "retries",
                                                "totalProcessingTime", "apiActiveProcessingTime",
                                                "apexProcessingTime")})
        if job.get("errorMessage"):
            out["errorMessage"] = job["errorMessage"]
    else:
        out["contentUrl"] = f"services/data/v{job['apiVersion']}/jobs/ingest/{job['id']}/batches"
    return out


@api
def create_ingest_job(ctx, request, version):
    body = body_object(request)
    obj = sobject(body.get("object"))
    if obj is None or not obj.writable:
        fail(400, "INVALIDJOB", f"InvalidJob : Unable to find object: {body.get('object')}")
    operation = body.get("operation")
    if operation not in OPERATIONS:
        fail(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    ext = None
    if operation == "upsert":
        if not body.get("externalIdFieldName"):
            fail(400, "INVALIDJOB", "InvalidJob : External ID was blank for upsert")
        ext = external_field(obj, body["externalIdFieldName"])
    if body.get("contentType", "CSV") != "CSV":
        fail(400, "INVALIDJOB", "InvalidJob : Content type must be CSV")
    delimiter = body.get("columnDelimiter", "COMMA")
    if delimiter not in DELIMITERS:
        fail(400, "INVALIDJOB", f"InvalidJob : Invalid column delimiter: {delimiter}")
    line_ending = body.get("lineEnding", "LF")
    if line_ending not in ("LF", "CRLF"):
        fail(400, "INVALIDJOB", f"InvalidJob : Invalid line ending: {line_ending}")
    moment = stamp()
    job_id = make_id("750", ctx.state.next_id("ids_750"))
    job = ctx.state.insert("ingest_jobs", {
        "id": job_id, "operation": operation, "object": obj.name, "createdById": USER_ID, "createdDate": moment,
        "systemModstamp": moment, "state": "Open", "externalIdFieldName": ext,
        "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(version), "jobType": "V2Ingest",
        "lineEnding": line_ending, "columnDelimiter": delimiter, "numberRecordsProcessed": 0,
        "numberRecordsFailed": 0, "retries": 0, "totalProcessingTime": 0, "apiActiveProcessingTime": 0,
        "apexProcessingTime": 0, "_uploaded": False, "_closed": None})
    return json_response(render_job(job, full=False))


@api
def upload_ingest_data(ctx, request, version, job_id):
    if (request.mimetype or "") != "text/csv":
        fail(400, "INVALIDJOB", "InvalidJob : Content-Type must be text/csv")
    data = request.get_data()
    if len(data) > UPLOAD_LIMIT:
        fail(413, "INVALIDJOB", "InvalidJob : Upload exceeds the 150 MB limit")
    with ctx.state.lock:
        job = job_or_404(ctx, job_id)
        if job["state"] != "Open":
            fail(409, "INVALIDJOBSTATE", f"Job {job_id} is not open for uploads; it is {job['state']}")
        if job["_uploaded"]:
            fail(409, "INVALIDJOBSTATE", "Job data has already been uploaded for this job")
        ctx.state.put("ingest_data", {"id": job_id, "csv": data.decode("utf-8-sig", errors="replace")})
        ctx.state.update("ingest_jobs", job_id, {"_uploaded": True, "systemModstamp": stamp()})
    return Response(b"", status=201)


@api
def update_ingest_job(ctx, request, version, job_id):
    wanted = body_object(request).get("state")
    with ctx.state.lock:
        job = job_or_404(ctx, job_id)
        if wanted == "UploadComplete":
            if job["state"] != "Open":
                fail(409, "INVALIDJOBSTATE", f"Job {job_id} is {job['state']}; only an Open job can be closed")
            job = ctx.state.update("ingest_jobs", job_id, {"state": "UploadComplete", "_closed": now(),
                                                           "systemModstamp": stamp()})
        elif wanted == "Aborted":
            if job["state"] in FINISHED:
                fail(409, "INVALIDJOBSTATE", f"Job {job_id} is already {job['state']}")
            job = ctx.state.update("ingest_jobs", job_id, {"state": "Aborted", "systemModstamp": stamp()})
        else:
            fail(400, "INVALIDJOB", f"InvalidJob : Invalid state: {wanted}")
    return json_response(render_job(job, full=False))


@api
def get_ingest_job(ctx, request, version, job_id):
    return json_response(render_job(advance(ctx, job_or_404(ctx, job_id))))


@api
def list_ingest_jobs(ctx, request, version):
    jobs = [render_job(advance(ctx, job)) for job in ctx.state.find("ingest_jobs")]
    return json_response({"done": True, "records": jobs, "nextRecordsUrl": None})


@api
def delete_ingest_job(ctx, request, version, job_id):
    with ctx.state.lock:
        job = job_or_404(ctx, job_id)
        if job["state"] in ("Open", "InProgress"):
            fail(409, "INVALIDJOBSTATE", f"Job {job_id} is {job['state']}; it cannot be deleted yet")
        for collection in ("ingest_jobs", "ingest_data", "ingest_results"):
            ctx.state.delete(collection, job_id)
    return empty_response(204)


def advance(ctx, job, collection="ingest_jobs"):
    """Move a closed job along: UploadComplete, then InProgress, then done once its time is up."""
    if job["state"] not in ("UploadComplete", "InProgress"):
        return job
    elapsed = now() - job["_closed"]
    seconds = float(ctx.settings["salesforce_bulk_seconds"])
    with ctx.state.lock:
        job = ctx.state.get(collection, job["id"])
        if job["state"] == "UploadComplete" and elapsed >= seconds / 2:
            job = ctx.state.update(collection, job["id"], {"state": "InProgress", "systemModstamp": stamp()})
        if job["state"] == "InProgress" and elapsed >= seconds:
            if collection == "query_jobs":
                return run_query_job_soon(ctx, job)
            with ctx.state.transaction():
                job = process(ctx, job)
    return job


def process(ctx, job):
    data = ctx.state.get("ingest_data", job["id"])
    started = now()
    if data is None or not data["csv"].strip():
        return ctx.state.update("ingest_jobs", job["id"], {
            "state": "Failed", "errorMessage": "InvalidBatch : No data was uploaded for this job",
            "systemModstamp": stamp()})
    reader = csv.reader(io.StringIO(data["csv"], newline=""), delimiter=DELIMITERS[job["columnDelimiter"]])
    rows = list(reader)
    header, rows = rows[0], [r for r in rows[1:] if any(cell != "" for cell in r)]
    obj = sobject(job["object"])
    problem = header_problem(obj, job, header)
    if problem:
        return ctx.state.update("ingest_jobs", job["id"], {
            "state": "Failed", "errorMessage": f"InvalidBatch : {problem}", "systemModstamp": stamp()})
    repeated = repeated_keys(job, header, rows)
    outcomes = [process_row(ctx.state, obj, job, header, row, repeated) for row in rows]
    failed = sum(1 for o in outcomes if o["error"])
    ctx.state.put("ingest_results", {"id": job["id"], "header": header, "rows": rows, "outcomes": outcomes})
    took = int((now() - started) * 1000)
    return ctx.state.update("ingest_jobs", job["id"], {
        "state": "JobComplete", "numberRecordsProcessed": len(rows), "numberRecordsFailed": failed,
        "totalProcessingTime": took, "apiActiveProcessingTime": took, "systemModstamp": stamp()})


def header_problem(obj, job, header):
    for name in header:
        if obj.field(name) is None:
            return f"Field name not found : {name}"
    names = {h.lower() for h in header}
    if job["operation"] in ("update", "delete", "hardDelete") and "id" not in names:
        return "Field name not found : Id"
    if job["operation"] == "upsert" and job["externalIdFieldName"].lower() not in names:
        return f"Field name not found : {job['externalIdFieldName']}"
    return None


def csv_values(header, row, operation):
    """CSV cells as values: an empty cell leaves a field alone, #N/A empties it."""
    values = {}
    for name, cell in zip(header, row):
        if cell == "":
            continue
        values[name] = None if cell == "#N/A" else cell
    return values


def repeated_keys(job, header, rows) -> set:
    """External id values an upsert job names more than once (those rows all fail)."""
    if job["operation"] != "upsert":
        return set()
    column = next(i for i, name in enumerate(header) if name.lower() == job["externalIdFieldName"].lower())
    seen, repeated = set(), set()
    for row in rows:
        key = lower(row[column]) if column < len(row) else None
        if key:
            (repeated if key in seen else seen).add(key)
    return repeated


def process_row(state, obj, job, header, row, repeated=frozenset()):
    operation = job["operation"]
    values = csv_values(header, row, operation)
    id_key = next((k for k in values if k.lower() == "id"), None)
    try:
        if len(row) != len(header):
            raise RecordError("INVALID_FIELD", f"The row has {len(row)} columns; the header has {len(header)}")
        if operation == "upsert":
            ext = job["externalIdFieldName"]
            key = next((values[k] for k in values if k.lower() == ext.lower()), None)
            if lower(key) in repeated:
                raise RecordError("DUPLICATE_VALUE", f"Duplicate external id specified: {key}", [ext])
        if operation == "insert":
            if id_key:
                raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
            return {"id": insert_record(state, obj, values)["Id"], "created": True, "error": None}
        if operation == "upsert":
            doc, created = upsert_record(state, obj, job["externalIdFieldName"], values)
            return {"id": doc["Id"], "created": created, "error": None}
        if not id_key or not values.get(id_key):
            raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", [])
        doc, error = find_live(state, obj, values[id_key])
        if error is not None:
            raise error
        if operation == "update":
            update_record(state, obj, doc, {k: v for k, v in values.items() if k != id_key})
        else:
            delete_record(state, obj, doc, hard=operation == "hardDelete")
        return {"id": doc["Id"], "created": False, "error": None}
    except RecordError as error:
        return {"id": None, "created": False, "error": error.as_bulk()}


def results_csv(job, results, kind):
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n" if job["lineEnding"] == "CRLF" else "\n")
    header = results["header"] if results else []
    if kind == "successful":
        writer.writerow(["sf__Id", "sf__Created", *header])
    elif kind == "failed":
        writer.writerow(["sf__Id", "sf__Error", *header])
    else:
        writer.writerow(header)
    for row, outcome in zip(results["rows"] if results else [], results["outcomes"] if results else []):
        if kind == "successful" and not outcome["error"]:
            writer.writerow([outcome["id"], "true" if outcome["created"] else "false", *row])
        elif kind == "failed" and outcome["error"]:
            writer.writerow([outcome["id"] or "", outcome["error"], *row])
    return out.getvalue()


def ingest_results(kind):
    @api
    def handler(ctx, request, version, job_id):
        job = advance(ctx, job_or_404(ctx, job_id))
        if job["state"] not in FINISHED:
            fail(409, "INVALIDJOBSTATE", f"Job {job_id} is {job['state']}; results are ready once it completes")
        results = ctx.state.get("ingest_results", job_id)
        if kind == "unprocessed" and results is None:
            data = ctx.state.get("ingest_data", job_id)
            text = data["csv"] if data else ""
            return Response(text, content_type="text/csv")
        return Response(results_csv(job, results, kind), content_type="text/csv")

    return handler


# -- Bulk API 2.0 query ------------------------------------------------------------------

QUERY_RESULTS_DEFAULT = 50_000
BACKGROUND_QUERY_RECORDS = 10_000  # a query job over an object of more records runs in a thread


def query_job_or_404(ctx, job_id):
    job = ctx.state.get("query_jobs", job_id)
    if job is None:
        not_found()
    return job


def render_query_job(job):
    keys = ["id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state",
            "concurrencyMode", "contentType", "apiVersion", "jobType", "lineEnding", "columnDelimiter",
            "numberRecordsProcessed", "retries", "totalProcessingTime", "isPkChunkingSupported"]
    out = {k: job.get(k) for k in keys}
    if job.get("errorMessage"):
        out["errorMessage"] = job["errorMessage"]
    return out


@api
def create_query_job(ctx, request, version):
    body = body_object(request)
    operation = body.get("operation", "query")
    if operation not in ("query", "queryAll"):
        fail(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    text = body.get("query")
    if not text:
        fail(400, "INVALIDJOB", "InvalidJob : A query is required")
    try:
        query = parse(text)
    except SoqlError as error:
        fail(400, error.code, error.message)
    if query.count_only or query.count_field:
        fail(400, "INVALIDJOB", "InvalidJob : Aggregate queries are not supported by Bulk API 2.0")
    delimiter = body.get("columnDelimiter", "COMMA")
    if delimiter not in DELIMITERS:
        fail(400, "INVALIDJOB", f"InvalidJob : Invalid column delimiter: {delimiter}")
    moment = stamp()
    job = ctx.state.insert("query_jobs", {
        "id": make_id("750", ctx.state.next_id("ids_750")), "operation": operation, "object": query.sobject.name,
        "createdById": USER_ID, "createdDate": moment, "systemModstamp": moment, "state": "UploadComplete",
        "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(version), "jobType": "V2Query",
        "lineEnding": body.get("lineEnding", "LF"), "columnDelimiter": delimiter, "numberRecordsProcessed": 0,
        "retries": 0, "totalProcessingTime": 0, "isPkChunkingSupported": True, "_query": text, "_closed": now()})
    return json_response(render_query_job(job))


def advance_query(ctx, job):
    return advance(ctx, job, "query_jobs")


def run_query_job_soon(ctx, job):
    """A small query job finishes within the poll that finds it due; a larger one runs in a thread, as
    Salesforce runs jobs apart from the API, so polls meanwhile answer InProgress at once."""
    if ctx.state.count(job["object"]) <= BACKGROUND_QUERY_RECORDS:
        with ctx.state.transaction():
            return run_query_job(ctx, job)
    running = ctx.state.scratch.setdefault("salesforce_query_threads", set())
    if job["id"] not in running:
        running.add(job["id"])
        threading.Thread(target=run_query_job, args=(ctx, job), daemon=True).start()
    return job


def run_query_job(ctx, job):
    """JobComplete, with the rows captured as of this moment."""
    query, rows = run_query(ctx, job["_query"], job["operation"] == "queryAll")
    paths = expand_select(query)
    table = [[csv_value(value_at(ctx, query.sobject, doc, path)) for path in paths] for doc in rows]
    ctx.state.put("query_results", {"id": job["id"], "header": [".".join(p) for p in paths], "rows": table})
    return ctx.state.update("query_jobs", job["id"], {
        "state": "JobComplete", "numberRecordsProcessed": len(table), "systemModstamp": stamp()})


def value_at(ctx, obj, doc, path):
    if len(path) == 1:
        return doc.get(path[0])
    ref = obj.relationships[path[0].lower()]
    parent = ctx.state.get(ref["referenceTo"][0], doc.get(ref["name"])) if doc.get(ref["name"]) else None
    return parent.get(path[1]) if parent else None


def csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@api
def get_query_job(ctx, request, version, job_id):
    return json_response(render_query_job(advance_query(ctx, query_job_or_404(ctx, job_id))))


@api
def list_query_jobs(ctx, request, version):
    jobs = [render_query_job(advance_query(ctx, job)) for job in ctx.state.find("query_jobs")]
    return json_response({"done": True, "records": jobs, "nextRecordsUrl": None})


@api
def abort_query_job(ctx, request, version, job_id):
    if body_object(request).get("state") != "Aborted":
        fail(400, "INVALIDJOB", "InvalidJob : A query job can only be set to Aborted")
    with ctx.state.lock:
        job = query_job_or_404(ctx, job_id)
        if job["state"] in FINISHED:
            fail(409, "INVALIDJOBSTATE", f"Job {job_id} is already {job['state']}")
        job = ctx.state.update("query_jobs", job_id, {"state": "Aborted", "systemModstamp": stamp()})
    return json_response(render_query_job(job))


@api
def delete_query_job(ctx, request, version, job_id):
    with ctx.state.lock:
        query_job_or_404(ctx, job_id)
        ctx.state.delete("query_jobs", job_id)
        ctx.state.delete("query_results", job_id)
    return empty_response(204)


@api
def query_job_results(ctx, request, version, job_id):
    """One set of rows as CSV; Sforce-Locator names the next set ("null" after the last)."""
    job = advance_query(ctx, query_job_or_404(ctx, job_id))
    if job["state"] != "JobComplete":
        fail(409, "INVALIDJOBSTATE", f"Job {job_id} is {job['state']}; results are ready once it is JobComplete")
    results = ctx.state.get("query_results", job_id)
    locator = request.args.get("locator") or "0"
    size = request.args.get("maxRecords") or str(QUERY_RESULTS_DEFAULT)
    if not locator.isdigit() or not size.isdigit() or int(size) < 1:
        fail(400, "INVALIDLOCATOR", f"Invalid locator or maxRecords: {locator}, {size}")
    start, size = int(locator), int(size)
    chunk = results["rows"][start:start + size]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITERS[job["columnDelimiter"]], quoting=csv.QUOTE_ALL,
                        lineterminator="\r\n" if job["lineEnding"] == "CRLF" else "\n")
    writer.writerow(results["header"])
    writer.writerows(chunk)
    following = start + size
    headers = {"Sforce-NumberOfRecords": str(len(chunk)),
               "Sforce-Locator": str(following) if following < len(results["rows"]) else "null"}
    return Response(out.getvalue(), content_type="text/csv", headers=headers)


# -- seed ---------------------------------------------------------------------------------

SEED_STAMP = "2026-01-05T09:00:00.000+0000"
SEED_ACCOUNTS = [("Acme Corporation", "acme.example", "Technology", "ACC-1"),
                 ("Globex", "globex.example", "Manufacturing", "ACC-2"),
                 ("Initech", "initech.example", "Finance", "ACC-3")]
SEED_CONTACTS = [("Ada", "Lovelace", "ada@acme.example", 0), ("Grace", "Hopper", "grace@globex.example", 1),
                 ("Alan", "Turing", "alan@initech.example", 2), ("Katherine", "Johnson", "katherine@acme.example", 0)]
SEED_LEADS = [("Linus", "Torvalds", "linus@kernel.example", "Kernel Org", False),
              ("Margaret", "Hamilton", "margaret@apollo.example", "Apollo Labs", False),
              ("Dennis", "Ritchie", "dennis@bell.example", "Bell Labs", True)]


def seed_record(state, obj, number, values):
    record_id = make_id(obj.key_prefix, number)
    state.next_id(f"ids_{obj.key_prefix}")
    doc = {"id": record_id, "Id": record_id, "IsDeleted": False, "CreatedDate": SEED_STAMP, "CreatedById": USER_ID,
           "LastModifiedDate": SEED_STAMP, "LastModifiedById": USER_ID, "SystemModstamp": SEED_STAMP}
    if obj.field("OwnerId") is not None:
        doc["OwnerId"] = USER_ID
    doc.update(obj.defaults())
    doc.update(values)
    return state.insert(obj.name, derived(obj, doc))


def seed(state):
    user = SOBJECTS["User"]
    seed_record(state, user, 1, {"Username": USERNAME, "Name": "Sandy Admin", "FirstName": "Sandy",
                                 "LastName": "Admin", "Email": USERNAME, "IsActive": True})
    accounts = [seed_record(state, SOBJECTS["Account"], n, {"Name": name, "Website": f"https://{site}",
                                                            "Industry": industry, "External_Id__c": ext})
                for n, (name, site, industry, ext) in enumerate(SEED_ACCOUNTS, 1)]
    contacts = [seed_record(state, SOBJECTS["Contact"], n, {"FirstName": first, "LastName": last, "Email": email,
                                                            "AccountId": accounts[account]["Id"]})
                for n, (first, last, email, account) in enumerate(SEED_CONTACTS, 1)]
    for n, (first, last, email, company, converted) in enumerate(SEED_LEADS, 1):
        values = {"FirstName": first, "LastName": last, "Email": email, "Company": company, "IsConverted": converted}
        if converted:
            values["Status"] = "Closed - Converted"
        seed_record(state, SOBJECTS["Lead"], n, values)
    seed_record(state, SOBJECTS["Customer_Score__c"], 1, {"Name": "Acme score", "Account__c": accounts[0]["Id"],
                                                          "Contact__c": contacts[0]["Id"], "Score__c": 87.5,
                                                          "Tier__c": "Gold", "Customer_Id__c": "CUST-1"})


def prepare_seed(collection, doc):
    """Complete a record posted to /_sandbox/state/salesforce/<Object>: Id, system fields, lookup keys."""
    obj = sobject(collection)
    if obj is None:
        return doc
    record_id = to_18(str(doc.get("Id") or doc.get("id") or "")) or make_id(obj.key_prefix, secrets.randbits(50))
    moment = stamp()
    full = {"IsDeleted": False, "CreatedDate": moment, "CreatedById": USER_ID, "LastModifiedDate": moment,
            "LastModifiedById": USER_ID, "SystemModstamp": moment, **obj.defaults(), **doc}
    if obj.field("OwnerId") is not None:
        full.setdefault("OwnerId", USER_ID)
    full.update(id=record_id, Id=record_id)
    return derived(obj, full)


# -- routes --------------------------------------------------------------------------------

RULES = [
    Rule("/services/oauth2/authorize", endpoint=oauth.authorize(OAUTH), methods=["GET", "POST"]),
    Rule("/services/oauth2/token", endpoint=token, methods=["POST"]),
    Rule("/services/oauth2/revoke", endpoint=oauth.revoke(OAUTH), methods=["POST"]),
    Rule("/services/oauth2/userinfo", endpoint=userinfo, methods=["GET"]),
    Rule("/id/<org>/<user>", endpoint=identity, methods=["GET"]),
    Rule("/services/data", endpoint=versions, methods=["GET"]),
    Rule(DATA, endpoint=resources, methods=["GET"]),
    Rule(DATA + "/limits", endpoint=limits, methods=["GET"]),
    Rule(DATA + "/limits/recordCount", endpoint=record_count, methods=["GET"]),
    Rule(DATA + "/sobjects", endpoint=describe_global, methods=["GET"]),
    Rule(DATA + "/sobjects/<name>", endpoint=basic_info, methods=["GET"]),
    Rule(DATA + "/sobjects/<name>", endpoint=create_one, methods=["POST"]),
    Rule(DATA + "/sobjects/<name>/describe", endpoint=describe, methods=["GET"]),
    Rule(DATA + "/sobjects/<name>/<record_id>", endpoint=get_one, methods=["GET"]),
    Rule(DATA + "/sobjects/<name>/<record_id>", endpoint=update_one, methods=["PATCH"]),
    Rule(DATA + "/sobjects/<name>/<record_id>", endpoint=delete_one, methods=["DELETE"]),
    Rule(DATA + "/sobjects/<name>/<field>/<path:value>", endpoint=upsert_one, methods=["PATCH"]),
    Rule(DATA + "/query", endpoint=soql("query", False), methods=["GET"]),
    Rule(DATA + "/queryAll", endpoint=soql("queryAll", True), methods=["GET"]),
    Rule(DATA + "/query/<locator>", endpoint=query_more, methods=["GET"]),
    Rule(DATA + "/queryAll/<locator>", endpoint=query_more, methods=["GET"]),
    Rule(DATA + "/composite/sobjects", endpoint=collection_insert, methods=["POST"]),
    Rule(DATA + "/composite/sobjects", endpoint=collection_update, methods=["PATCH"]),
    Rule(DATA + "/composite/sobjects", endpoint=collection_delete, methods=["DELETE"]),
    Rule(DATA + "/composite/sobjects/<name>", endpoint=collection_retrieve, methods=["GET", "POST"]),
    Rule(DATA + "/composite/sobjects/<name>/<field>", endpoint=collection_upsert, methods=["PATCH"]),
    Rule(DATA + "/jobs/query", endpoint=create_query_job, methods=["POST"]),
    Rule(DATA + "/jobs/query", endpoint=list_query_jobs, methods=["GET"]),
    Rule(DATA + "/jobs/query/<job_id>", endpoint=get_query_job, methods=["GET"]),
    Rule(DATA + "/jobs/query/<job_id>", endpoint=abort_query_job, methods=["PATCH"]),
    Rule(DATA + "/jobs/query/<job_id>", endpoint=delete_query_job, methods=["DELETE"]),
    Rule(DATA + "/jobs/query/<job_id>/results", endpoint=query_job_results, methods=["GET"]),
    Rule(DATA + "/jobs/ingest", endpoint=create_ingest_job, methods=["POST"]),
    Rule(DATA + "/jobs/ingest", endpoint=list_ingest_jobs, methods=["GET"]),
    Rule(DATA + "/jobs/ingest/<job_id>", endpoint=get_ingest_job, methods=["GET"]),
    Rule(DATA + "/jobs/ingest/<job_id>", endpoint=update_ingest_job, methods=["PATCH"]),
    Rule(DATA + "/jobs/ingest/<job_id>", endpoint=delete_ingest_job, methods=["DELETE"]),
    Rule(DATA + "/jobs/ingest/<job_id>/batches", endpoint=upload_ingest_data, methods=["PUT"]),
    Rule(DATA + "/jobs/ingest/<job_id>/successfulResults", endpoint=ingest_results("successful"), methods=["GET"]),
    Rule(DATA + "/jobs/ingest/<job_id>/failedResults", endpoint=ingest_results("failed"), methods=["GET"]),
    Rule(DATA + "/jobs/ingest/<job_id>/unprocessedrecords", endpoint=ingest_results("unprocessed"),
         methods=["GET"]),
]
