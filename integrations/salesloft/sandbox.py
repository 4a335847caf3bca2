"""Salesloft API v2 emulation: people, accounts, cadences, cadence memberships, calls,
notes, external emails, account redaction, bulk jobs, users, custom fields, OAuth.

Follows the published v2 contract (developers.salesloft.com, the v2 OpenAPI
definition): `{"data": ...}` on single resources, `{"metadata", "data"}` on lists
with `page`/`per_page` paging, `.json` optional on every path, JSON or form
bodies, the per-team cost budget per minute with x-ratelimit-* headers.

Choices where the provider documents nothing (marked so connectors parse defensively):
- 422 bodies are `{"errors": {"<field>": ["<message>"]}}` (Rails style);
  other errors `{"status": <code>, "error": "<message>"}`.
- 429 carries a Retry-After (seconds to the next budget window).
- Only the bulk job type "person/upsert" exists.
- Account redaction (`POST /v2/data_control/account_redaction`, absent from the v2
  definition) answers `{"data": {"id", "account_id", "dry_run", "status"}}` and, unless a dry
  run, blanks the account's and its people's personal fields at once.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from email import message_from_bytes
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from integrations.sandbox import oauth, ratelimit
from integrations.sandbox.http import abort_with, empty_response, iso, json_response, now, read_params

NAME = "salesloft"
PREFIX = "/salesloft"
API = "/v2"

SETTINGS = {
    "salesloft_cost_per_minute": 600,
    "salesloft_allow_duplicate_emails": False,
    "salesloft_bulk_seconds": 1.0,  # how long a bulk job stays "executing"
}

INDEXES = ("_email", "crm_id", "domain", "account_id", "person_id", "cadence_id", "bulk_job_id")

PER_PAGE_MAX = 100
JOB_DATA_MAX = 5000
BULK_TYPES = ("person/upsert",)
SENIORITIES = ("director", "executive", "individual_contributor", "manager", "vice_president", "unknown")
RESTRICTIONS = ("call", "email", "message")

PERSON_WRITABLE = (
    "email_address", "first_name", "last_name", "phone", "phone_extension", "mobile_phone", "home_phone",
    "title", "city", "state", "country", "work_city", "work_state", "work_country", "linkedin_url",
    "twitter_handle", "personal_website", "personal_email_address", "secondary_email_address",
    "person_company_name", "person_company_website", "person_company_industry", "job_seniority",
    "do_not_contact", "contact_restrictions", "locale", "owner_id", "account_id", "person_stage_id",
    "import_id", "tags", "custom_fields", "crm_id", "crm_id_type",
)
ACCOUNT_WRITABLE = (
    "name", "domain", "conversational_name", "description", "phone", "website", "linkedin_url",
    "twitter_handle", "street", "city", "state", "postal_code", "country", "locale", "industry",
    "company_type", "founded", "revenue_range", "size", "do_not_contact", "custom_fields", "tags",
    "owner_id", "company_stage_id", "account_tier_id", "crm_id", "crm_id_type",
)
TEAM_USER_ID = 1


# -- errors -------------------------------------------------------------------

def error_response(ctx, status, message, headers=None):
    return json_response({"status": status, "error": message}, status, headers)


def _unauthorized(ctx, reason):
    return json_response({"status": 401, "error": "Not authorized",
                          "error_description": f"The access token is {reason}"
                          if reason != "missing" else "No access token given"}, 401)


def invalid(errors: dict):
    """Stop with Salesloft's 422: errors maps a field (or "base") to messages."""
    abort_with(json_response({"errors": {k: v if isinstance(v, list) else [v] for k, v in errors.items()}}, 422))


def not_found():
    abort_with(json_response({"status": 404, "error": "Not Found"}, 404))


# -- OAuth --------------------------------------------------------------------

OAUTH = oauth.OAuthConfig(
    name="Salesloft",
    scopes=("people:read", "people:write", "accounts:read", "accounts:write", "cadences:read",
            "cadence_memberships:write", "users:read", "team:read", "activities:write", "bulk_jobs:write",
            "person:set_crm_id"),
    redirect_extras=lambda ctx, code: {"context": f"/teams/1/users/{TEAM_USER_ID}",
                                       "scope": " ".join(code["scope"])},
    token_extras=lambda ctx, token: {"created_at": int(token["issued_at"])},
    rotate_refresh_tokens=True,
    api_key_bearer=True,
    api_keys=({"id": "sandbox-api-key", "name": "Sandbox API key"},),
    unauthorized=_unauthorized,
)


def api(handler):
    """Authenticate, charge the team's cost budget, stamp the rate-limit headers."""

    def wrapped(ctx, request, **values):
        token = oauth.authenticate(ctx, request)
        page = _int_arg(request.args, "page", 1) if request.method == "GET" else 1
        allowed, headers = ratelimit.salesloft(ctx, ratelimit.salesloft_page_cost(max(page, 1)))
        if not allowed:
            return json_response({"status": 429, "error": "Rate limit exceeded"}, 429, headers)
        try:
            response = handler(ctx, request, token=token, **values)
        except HTTPException as exc:
            if exc.response is None:
                raise
            response = exc.response
        response.headers.update(headers)
        return response

    return wrapped


# -- parameters ---------------------------------------------------------------

def _int_arg(args, name, default=None):
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        invalid({name: "must be an integer"})


def list_arg(args, name) -> list[str] | None:
    """`ids=1,2`, `ids[]=1&ids[]=2` and repeated `ids=1&ids=2` all give ["1", "2"]."""
    values = args.getlist(name) + args.getlist(name + "[]")
    if not values:
        return None
    out = []
    for value in values:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def bool_arg(args, name):
    value = args.get(name)
    if value is None:
        return None
    return value.lower() in ("true", "1", "yes")


def _ints(values, name):
    try:
        return [int(v) for v in values]
    except ValueError:
        invalid({name: "must be integers"})


def _parse_time(value, name):
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        invalid({name: "must be an ISO 8601 timestamp"})


def time_filters(args, field):
    """`updated_at[gt]=...` style filters as a predicate on a document."""
    checks = []
    for op in ("gt", "gte", "lt", "lte"):
        value = args.get(f"{field}[{op}]")
        if value:
            checks.append((op, _parse_time(value, f"{field}[{op}]")))
    if not checks:
        return None

    def matches(doc):
        if not doc.get(field):
            return False
        moment = datetime.fromisoformat(doc[field].replace("Z", "+00:00"))
        return all({"gt": moment > v, "gte": moment >= v, "lt": moment < v, "lte": moment <= v}[op]
                   for op, v in checks)

    return matches


def paginate(ctx, request, docs, render, sortable=("created_at", "updated_at"), default_sort="updated_at",
             filtering=None, keys=None):
    """Sort, cut one page and wrap docs in Salesloft's list envelope."""
    args = request.args
    per_page = _int_arg(args, "per_page", 25)
    page = _int_arg(args, "page", 1)
    if not 1 <= per_page <= PER_PAGE_MAX:
        invalid({"per_page": f"must be between 1 and {PER_PAGE_MAX}"})
    if page < 1:
        invalid({"page": "must be greater than 0"})
    sort_by = args.get("sort_by", default_sort)
    if sort_by not in sortable:
        invalid({"sort_by": f"must be one of: {', '.join(sortable)}"})
    direction = args.get("sort_direction", "DESC").upper()
    if direction not in ("ASC", "DESC"):
        invalid({"sort_direction": "must be one of: ASC, DESC"})
    value = (keys or {}).get(sort_by) or (lambda d: d.get(sort_by))
    present = [d for d in docs if value(d) is not None]
    missing = [d for d in docs if value(d) is None]
    present.sort(key=lambda d: (value(d), d["id"]), reverse=direction == "DESC")
    ordered = present + missing  # NULLS LAST
    start = (page - 1) * per_page
    chunk = ordered[start:start + per_page]
    total = len(ordered)
    paging = {"per_page": per_page, "current_page": page,
              "next_page": page + 1 if start + per_page < total else None,
              "prev_page": page - 1 if page > 1 else None}
    if bool_arg(args, "include_paging_counts"):
        counted = min(total, 10000) if bool_arg(args, "limit_paging_counts") else total
        paging.update(total_pages=max(1, -(-counted // per_page)), total_count=counted)
    return json_response({
        "metadata": {"filtering": filtering or {}, "paging": paging,
                     "sorting": {"sort_by": sort_by, "sort_direction": f"{direction} NULLS LAST"}},
        "data": [render(ctx, d) for d in chunk],
    })


def body(request) -> dict:
    params = read_params(request)
    for key, value in list(params.items()):
        # Form bodies spell nested values Rails style: custom_fields[Plan]=gold
        if "[" in key and key.endswith("]") and not key.endswith("[]"):
            outer, inner = key[:-1].split("[", 1)
            params.setdefault(outer, {})
            if isinstance(params[outer], dict):
                params[outer][inner] = params.pop(key)
    return params


def ref(ctx, kind, id):
    if id is None:
        return None
    return {"_href": f"{ctx.provider_url}/v2/{kind}/{id}", "id": id}


def _blank(value):
    return value is None or value == ""


# -- users, team, custom fields ----------------------------------------------------

def render_user(ctx, user):
    return {**{k: v for k, v in user.items() if not k.startswith("_")},
            "team": ref(ctx, "team", 1), "group": None, "role": None,
            "full_email_address": f'"{user["name"]}" <{user["email"]}>'}


@api
def me(ctx, request, token):
    return json_response({"data": render_user(ctx, ctx.state.get("users", TEAM_USER_ID))})


@api
def list_users(ctx, request, token):
    return paginate(ctx, request, ctx.state.find("users"), render_user, sortable=("id", "updated_at", "created_at"),
                    default_sort="id")


@api
def get_user(ctx, request, token, id):
    user = ctx.state.get("users", id) or not_found()
    return json_response({"data": render_user(ctx, user)})


@api
def team(ctx, request, token):
    return json_response({"data": ctx.state.get("team", 1)})


@api
def list_custom_fields(ctx, request, token):
    docs = ctx.state.find("custom_fields")
    field_type = request.args.get("field_type")
    if field_type:
        docs = [d for d in docs if d["field_type"] == field_type]
    return paginate(ctx, request, docs, lambda ctx, d: d)


# -- people -------------------------------------------------------------------

PERSON_DEFAULTS = {name: None for name in PERSON_WRITABLE if name not in
                   ("owner_id", "account_id", "person_stage_id", "import_id", "crm_id_type")}


def render_person(ctx, person):
    first, last = person.get("first_name") or "", person.get("last_name") or ""
    display = f"{first} {last}".strip() or person.get("email_address") or ""
    cadence_ids = person.get("cadence_ids", [])
    return {
        **PERSON_DEFAULTS,
        **{k: v for k, v in person.items() if k in PERSON_DEFAULTS},
        "id": person["id"],
        "tags": person.get("tags") or [],
        "custom_fields": person.get("custom_fields") or {},
        "contact_restrictions": person.get("contact_restrictions") or [],
        "do_not_contact": bool(person.get("do_not_contact")),
        "display_name": display,
        "full_email_address": f'"{display}" <{person["email_address"]}>' if person.get("email_address") else None,
        "bouncing": False, "eu_resident": False, "starred": False, "untouched": not cadence_ids,
        "success_count": 0, "locale_utc_offset": None,
        "counts": {"emails_sent": 0, "emails_viewed": 0, "emails_clicked": 0, "emails_replied_to": 0,
                   "emails_bounced": 0, "calls": person.get("_calls", 0)},
        "account": ref(ctx, "accounts", person.get("account_id")),
        "owner": ref(ctx, "users", person.get("owner_id")),
        "person_stage": ref(ctx, "person_stages", person.get("person_stage_id")),
        "import": ref(ctx, "imports", person.get("import_id")),
        "cadences": [ref(ctx, "cadences", c) for c in cadence_ids],
        "most_recent_cadence": ref(ctx, "cadences", person.get("most_recent_cadence_id")),
        "last_completed_step": None, "last_completed_step_cadence": None,
        "last_contacted_at": None, "last_contacted_by": None, "last_contacted_type": None,
        "last_replied_at": None,
        "crm_object_type": ("Lead" if str(person.get("crm_id")).startswith("00Q") else "Contact")
        if person.get("crm_id") else None,
        "crm_url": f"https://sandbox.my.salesforce.com/{person['crm_id']}" if person.get("crm_id") else None,
        "owner_crm_id": None,
        "created_at": person["created_at"], "updated_at": person["updated_at"],
    }


def _clean_person(ctx, token, params: dict, existing: dict | None) -> dict:
    """Validated changes for a person (create when existing is None); 422s on bad input."""
    changes = {k: params[k] for k in PERSON_WRITABLE if k in params}
    errors = {}
    for key, value in list(changes.items()):
        if value == "" and key not in ("custom_fields", "tags", "contact_restrictions"):
            changes[key] = None
    if changes.get("job_seniority") is not None and changes["job_seniority"] not in SENIORITIES:
        errors["job_seniority"] = f"must be one of {', '.join(SENIORITIES)}"
    restrictions = changes.get("contact_restrictions")
    if restrictions is not None:
        if isinstance(restrictions, str):
            restrictions = [r for r in restrictions.split(",") if r]
        if not isinstance(restrictions, list) or any(r not in RESTRICTIONS for r in restrictions):
            errors["contact_restrictions"] = f"must be a list of {', '.join(RESTRICTIONS)}"
        changes["contact_restrictions"] = restrictions
    if "do_not_contact" in changes and isinstance(changes["do_not_contact"], str):
        changes["do_not_contact"] = changes["do_not_contact"].lower() == "true"
    if "tags" in changes:
        tags = changes["tags"]
        changes["tags"] = [t for t in (tags.split(",") if isinstance(tags, str) else tags or []) if t]
    for key in ("owner_id", "account_id", "person_stage_id", "import_id"):
        if changes.get(key) is not None:
            try:
                changes[key] = int(changes[key])
            except (TypeError, ValueError):
                errors[key] = "must be an integer"
    if changes.get("account_id") is not None and "account_id" not in errors \
            and ctx.state.get("accounts", changes["account_id"]) is None:
        errors["account"] = "must exist"
    if changes.get("owner_id") is not None and "owner_id" not in errors \
            and ctx.state.get("users", changes["owner_id"]) is None:
        errors["owner"] = "must exist"
    if "custom_fields" in changes:
        fields = changes["custom_fields"]
        if not isinstance(fields, dict):
            errors["custom_fields"] = "must be an object"
        else:
            merged = dict((existing or {}).get("custom_fields") or {})
            for name, value in fields.items():
                if _blank(value):
                    merged.pop(name, None)
                else:
                    merged[name] = value
            changes["custom_fields"] = merged
    if changes.get("crm_id") is not None:
        crm_id = str(changes["crm_id"])
        if not oauth.has_scope(token, "person:set_crm_id"):
            abort_with(json_response({"status": 403, "error": "Forbidden",
                                      "error_description": "crm_id needs the person:set_crm_id scope"}, 403))
        if changes.get("crm_id_type") != "salesforce":
            errors["crm_id_type"] = "must be one of: salesforce"
        elif len(crm_id) != 18 or not crm_id.startswith(("00Q", "003")):
            errors["crm_id"] = "must be an 18 character Salesforce Lead (00Q) or Contact (003) id"
    changes.pop("crm_id_type", None)
    email = changes.get("email_address", (existing or {}).get("email_address"))
    if email is not None and ("@" not in str(email) or " " in str(email).strip()):
        errors["email_address"] = "is invalid"
    merged = {**(existing or {}), **changes}
    if not merged.get("email_address") and not (merged.get("phone") and merged.get("last_name")):
        errors["base"] = "Either email_address or phone/last_name must be provided"
    if "email_address" in changes and changes["email_address"] and not errors.get("email_address"):
        changes["email_address"] = str(changes["email_address"]).strip()
        changes["_email"] = changes["email_address"].lower()
        if not ctx.settings["salesloft_allow_duplicate_emails"]:
            clash = ctx.state.find_one("people", _email=changes["_email"])
            if clash is not None and (existing is None or clash["id"] != existing["id"]):
                errors["email_address"] = "has already been taken"
    elif "email_address" in changes:
        changes["_email"] = None
    if errors:
        invalid(errors)
    return changes


def create_person_doc(ctx, token, params):
    changes = _clean_person(ctx, token, params, None)
    changes.setdefault("owner_id", TEAM_USER_ID)
    stamp = iso()
    return ctx.state.insert("people", {**changes, "cadence_ids": [], "created_at": stamp, "updated_at": stamp})


def update_person_doc(ctx, token, person, params):
    changes = _clean_person(ctx, token, params, person)
    return ctx.state.update("people", person["id"], {**changes, "updated_at": iso()})


@api
def list_people(ctx, request, token):
    args = request.args
    equals, filtering = {}, {}
    for name, field in (("ids", "id"), ("crm_id", "crm_id"), ("account_id", "account_id"),
                        ("owner_id", "owner_id"), ("person_stage_id", "person_stage_id"),
                        ("job_seniority", "job_seniority")):
        values = list_arg(args, name)
        if values is None:
            continue
        filtering[name] = values
        if field in ("id", "account_id", "owner_id", "person_stage_id"):
            values = _ints([v for v in values if v != "_is_null"], name) + \
                ([None] if "_is_null" in values else [])
        equals[field] = values
    emails = list_arg(args, "email_addresses")
    if emails is not None:
        filtering["email_addresses"] = emails
        equals["_email"] = [e.lower() for e in emails if e != "_is_null"] + ([None] if "_is_null" in emails else [])
    docs = _find_any(ctx.state, "people", equals)
    cadence_ids = list_arg(args, "cadence_id")
    if cadence_ids is not None:
        wanted = set(_ints(cadence_ids, "cadence_id"))
        docs = [d for d in docs if wanted & set(d.get("cadence_ids", []))]
    dnc = bool_arg(args, "do_not_contact")
    if dnc is not None:
        docs = [d for d in docs if bool(d.get("do_not_contact")) == dnc]
    for text in ("title", "city", "state", "country"):
        if args.get(text):
            needle = args[text].lower()
            docs = [d for d in docs if needle in (d.get(text) or "").lower()]
    for stamp in ("updated_at", "created_at"):
        check = time_filters(args, stamp)
        if check:
            docs = [d for d in docs if check(d)]
    return paginate(ctx, request, docs, render_person,
                    sortable=("created_at", "updated_at", "last_contacted_at", "name", "title", "id"),
                    filtering=filtering, keys={"name": _person_name})


def _person_name(person):
    return f"{person.get('first_name') or ''} {person.get('last_name') or ''}".strip().lower() or None


def _find_any(state, collection, equals):
    """find() where a None inside a list means "or missing"."""
    plain = {k: v for k, v in equals.items() if not (isinstance(v, list) and None in v)}
    docs = state.find(collection, **plain)
    for key, values in equals.items():
        if isinstance(values, list) and None in values:
            docs = [d for d in docs if d.get(key) in values]
    return docs


@api
def create_person(ctx, request, token):
    person = create_person_doc(ctx, token, body(request))
    return json_response({"data": render_person(ctx, person)})


@api
def get_person(ctx, request, token, id):
    person = ctx.state.get("people", id) or not_found()
    return json_response({"data": render_person(ctx, person)})


@api
def update_person(ctx, request, token, id):
    person = ctx.state.get("people", id) or not_found()
    return json_response({"data": render_person(ctx, update_person_doc(ctx, token, person, body(request)))})


@api
def delete_person(ctx, request, token, id):
    if not ctx.state.delete("people", id):
        not_found()
    for membership in ctx.state.find("cadence_memberships", person_id=id):
        ctx.state.update("cadence_memberships", membership["id"], {"person_deleted": True,
                                                                   "currently_on_cadence": False})
    return empty_response(204)


def upsert_person(ctx, token, params) -> tuple[dict, str]:
    """Salesloft's person upsert; returns (person doc, "create" | "update") or aborts 422."""
    key = params.get("upsert_key")
    if key is None:
        return create_person_doc(ctx, token, params), "create"
    if key not in ("id", "crm_id", "email_address"):
        invalid({"upsert_key": "must be one of: id, crm_id, email_address"})
    if _blank(params.get(key)):
        invalid({key: "must be provided when it is the upsert_key"})
    if key == "id":
        try:
            matches = [p for p in [ctx.state.get("people", int(params["id"]))] if p]
        except (TypeError, ValueError):
            invalid({"id": "must be an integer"})
    elif key == "email_address":
        matches = ctx.state.find("people", _email=str(params["email_address"]).strip().lower())
    else:
        matches = ctx.state.find("people", crm_id=str(params["crm_id"]))
    if len(matches) > 1:
        invalid({key: "matches more than one person"})
    if key != "id" and not _blank(params.get("id")) and matches and str(matches[0]["id"]) != str(params["id"]):
        invalid({"id": "does not match the record found by the upsert_key"})
    if not matches:
        if key == "id":
            not_found()
        return create_person_doc(ctx, token, params), "create"
    return update_person_doc(ctx, token, matches[0], params), "update"


@api
def person_upsert(ctx, request, token):
    person, kind = upsert_person(ctx, token, body(request))
    return json_response({"data": {"person": render_person(ctx, person), "upsert_type": kind}})


# -- accounts -----------------------------------------------------------------

def _domain(value):
    text = str(value).strip().lower()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text.split("/")[0]


def render_account(ctx, account):
    fields = {name: account.get(name) for name in ACCOUNT_WRITABLE
              if name not in ("owner_id", "company_stage_id", "account_tier_id", "crm_id_type")}
    return {
        **fields,
        "id": account["id"],
        "tags": account.get("tags") or [],
        "custom_fields": account.get("custom_fields") or {},
        "do_not_contact": bool(account.get("do_not_contact")),
        "owner": ref(ctx, "users", account.get("owner_id")),
        "creator": ref(ctx, "users", account.get("creator_id")),
        "company_stage": ref(ctx, "account_stages", account.get("company_stage_id")),
        "account_tier": ref(ctx, "account_tiers", account.get("account_tier_id")),
        "counts": {"people": ctx.state.count("people", account_id=account["id"])},
        "archived_at": None, "last_contacted_at": None, "last_contacted_by": None,
        "last_contacted_person": None, "last_contacted_type": None, "owner_crm_id": None,
        "crm_object_type": "Account" if account.get("crm_id") else None,
        "crm_url": f"https://sandbox.my.salesforce.com/{account['crm_id']}" if account.get("crm_id") else None,
        "user_relationships": {},
        "created_at": account["created_at"], "updated_at": account["updated_at"],
    }


def _clean_account(ctx, params, existing):
    changes = {k: params[k] for k in ACCOUNT_WRITABLE if k in params}
    errors = {}
    for key, value in list(changes.items()):
        if value == "" and key not in ("custom_fields", "tags"):
            changes[key] = None
    merged = {**(existing or {}), **changes}
    if _blank(merged.get("name")):
        errors["name"] = "can't be blank"
    if _blank(merged.get("domain")):
        errors["domain"] = "can't be blank"
    elif "domain" in changes:
        changes["domain"] = _domain(changes["domain"])
        clash = ctx.state.find_one("accounts", domain=changes["domain"])
        if clash is not None and (existing is None or clash["id"] != existing["id"]):
            errors["domain"] = "has already been taken"
    if "custom_fields" in changes and not isinstance(changes["custom_fields"], dict):
        errors["custom_fields"] = "must be an object"
    if changes.get("crm_id") is not None and changes.get("crm_id_type") != "salesforce":
        errors["crm_id_type"] = "must be one of: salesforce"
    changes.pop("crm_id_type", None)
    if changes.get("owner_id") is not None:
        try:
            changes["owner_id"] = int(changes["owner_id"])
        except (TypeError, ValueError):
            errors["owner_id"] = "must be an integer"
    if errors:
        invalid(errors)
    return changes


def create_account_doc(ctx, params):
    changes = _clean_account(ctx, params, None)
    stamp = iso()
    return ctx.state.insert("accounts", {**changes, "creator_id": TEAM_USER_ID, "created_at": stamp,
                                         "updated_at": stamp})


def update_account_doc(ctx, account, params):
    return ctx.state.update("accounts", account["id"], {**_clean_account(ctx, params, account), "updated_at": iso()})


@api
def list_accounts(ctx, request, token):
    args = request.args
    equals, filtering = {}, {}
    for name in ("ids", "crm_id", "domain", "name", "owner_id"):
        values = list_arg(args, name)
        if values is None:
            continue
        filtering[name] = values
        field = "id" if name == "ids" else name
        if field in ("id", "owner_id"):
            values = _ints(values, name)
        if field == "domain":
            values = [_domain(v) for v in values]
        equals[field] = values
    docs = ctx.state.find("accounts", **equals)
    for stamp in ("updated_at", "created_at"):
        check = time_filters(args, stamp)
        if check:
            docs = [d for d in docs if check(d)]
    return paginate(ctx, request, docs, render_account, sortable=("created_at", "updated_at", "name", "id"),
                    filtering=filtering)


@api
def create_account(ctx, request, token):
    return json_response({"data": render_account(ctx, create_account_doc(ctx, body(request)))})


@api
def get_account(ctx, request, token, id):
    account = ctx.state.get("accounts", id) or not_found()
    return json_response({"data": render_account(ctx, account)})


@api
def update_account(ctx, request, token, id):
    account = ctx.state.get("accounts", id) or not_found()
    return json_response({"data": render_account(ctx, update_account_doc(ctx, account, body(request)))})


@api
def delete_account(ctx, request, token, id):
    if not ctx.state.delete("accounts", id):
        not_found()
    for person in ctx.state.find("people", account_id=id):
        ctx.state.update("people", person["id"], {"account_id": None})
    return empty_response(204)


@api
def account_upsert(ctx, request, token):
    params = body(request)
    key = params.get("upsert_key")
    if key is None:
        account, kind = create_account_doc(ctx, params), "create"
    else:
        if key not in ("id", "crm_id", "domain"):
            invalid({"upsert_key": "must be one of: id, crm_id, domain"})
        if _blank(params.get(key)):
            invalid({key: "must be provided when it is the upsert_key"})
        if key == "id":
            matches = [a for a in [ctx.state.get("accounts", _int_param(params["id"], "id"))] if a]
        elif key == "domain":
            matches = ctx.state.find("accounts", domain=_domain(params["domain"]))
        else:
            matches = ctx.state.find("accounts", crm_id=str(params["crm_id"]))
        if len(matches) > 1:
            invalid({key: "matches more than one account"})
        if not matches:
            if key == "id":
                not_found()
            account, kind = create_account_doc(ctx, params), "create"
        else:
            account, kind = update_account_doc(ctx, matches[0], params), "update"
    return json_response({"data": {"account": render_account(ctx, account), "upsert_type": kind}})


def _int_param(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        invalid({name: "must be an integer"})


# -- cadences and memberships ----------------------------------------------------

def render_cadence(ctx, cadence):
    out = {k: v for k, v in cadence.items() if not k.startswith("_") and k != "owner_id"}
    out.update(owner=ref(ctx, "users", cadence["owner_id"]), creator=ref(ctx, "users", cadence["owner_id"]),
               counts={"cadence_people": ctx.state.count("cadence_memberships", cadence_id=cadence["id"],
                                                         currently_on_cadence=True),
                       "target_daily_people": 0, "opportunities_created": 0, "meetings_booked": 0,
                       "people_acted_on_count": 0})
    return out


def _addable(cadence):
    return cadence["current_state"] == "active" and not cadence["draft"] and cadence["archived_at"] is None


@api
def list_cadences(ctx, request, token):
    args = request.args
    docs = ctx.state.find("cadences")
    ids = list_arg(args, "ids")
    if ids is not None:
        wanted = set(_ints(ids, "ids"))
        docs = [d for d in docs if d["id"] in wanted]
    for flag in ("team_cadence", "shared"):
        value = bool_arg(args, flag)
        if value is not None:
            docs = [d for d in docs if d[flag] == value]
    archived = bool_arg(args, "archived")
    if archived is not None:
        docs = [d for d in docs if (d["archived_at"] is not None) == archived]
    addable = bool_arg(args, "people_addable")
    if addable is not None:
        docs = [d for d in docs if _addable(d) == addable]
    if args.get("name"):
        docs = [d for d in docs if args["name"].lower() in d["name"].lower()]
    return paginate(ctx, request, docs, render_cadence, sortable=("created_at", "updated_at", "name", "id"))


@api
def get_cadence(ctx, request, token, id):
    cadence = ctx.state.get("cadences", id) or not_found()
    return json_response({"data": render_cadence(ctx, cadence)})


def render_membership(ctx, membership, state=None):
    return {
        "id": membership["id"],
        "added_at": membership["added_at"], "created_at": membership["created_at"],
        "updated_at": membership["updated_at"],
        "person_deleted": membership.get("person_deleted", False),
        "currently_on_cadence": membership["currently_on_cadence"],
        "current_state": state or membership["current_state"],
        "cadence": ref(ctx, "cadences", membership["cadence_id"]),
        "person": ref(ctx, "people", membership["person_id"]),
        "user": ref(ctx, "users", membership["user_id"]),
        "latest_action": None,
        "counts": {"sent_emails": 0, "views": 0, "clicks": 0, "replies": 0, "bounces": 0, "calls": 0},
    }


@api
def create_membership(ctx, request, token):
    params = {**body(request), **{k: v for k, v in request.args.items()}}  # spec: query params; clients: body
    errors = {name: "can't be blank" for name in ("person_id", "cadence_id") if _blank(params.get(name))}
    if errors:
        invalid(errors)
    person_id = _int_param(params["person_id"], "person_id")
    cadence_id = _int_param(params["cadence_id"], "cadence_id")
    user_id = _int_param(params.get("user_id") or TEAM_USER_ID, "user_id")
    person = ctx.state.get("people", person_id)
    cadence = ctx.state.get("cadences", cadence_id)
    if person is None or cadence is None:
        not_found()
    if ctx.state.get("users", user_id) is None:
        invalid({"user_id": "is not a user on this team"})
    if not _addable(cadence):
        invalid({"cadence": "is not active; people cannot be added"})
    if person.get("do_not_contact"):
        invalid({"person": "is marked do not contact"})
    stamp = iso()
    with ctx.state.lock:
        existing = ctx.state.find_one("cadence_memberships", person_id=person_id, cadence_id=cadence_id)
        if existing is not None and existing["currently_on_cadence"]:
            invalid({"base": "Person is already on this cadence"})
        fields = {"person_id": person_id, "cadence_id": cadence_id, "user_id": user_id, "added_at": stamp,
                  "updated_at": stamp, "currently_on_cadence": True, "current_state": "active",
                  "person_deleted": False}
        if existing is None:  # one record per person and cadence, reused when re-added
            membership = ctx.state.insert("cadence_memberships", {**fields, "created_at": stamp})
        else:
            membership = ctx.state.update("cadence_memberships", existing["id"], fields)
        ids = [c for c in person.get("cadence_ids", []) if c != cadence_id] + [cadence_id]
        ctx.state.update("people", person_id, {"cadence_ids": ids, "most_recent_cadence_id": cadence_id})
    return json_response({"data": render_membership(ctx, membership, state="processing")})


@api
def list_memberships(ctx, request, token):
    args = request.args
    equals = {}
    for name, field in (("ids", "id"), ("person_id", "person_id"), ("cadence_id", "cadence_id")):
        values = list_arg(args, name)
        if values is not None:
            equals[field] = _ints(values, name)
    on = bool_arg(args, "currently_on_cadence")
    if on is not None:
        equals["currently_on_cadence"] = on
    docs = ctx.state.find("cadence_memberships", **equals)
    check = time_filters(args, "updated_at")
    if check:
        docs = [d for d in docs if check(d)]
    return paginate(ctx, request, docs, render_membership, sortable=("added_at", "updated_at", "id"))


@api
def get_membership(ctx, request, token, id):
    membership = ctx.state.get("cadence_memberships", id) or not_found()
    return json_response({"data": render_membership(ctx, membership)})


@api
def delete_membership(ctx, request, token, id):
    with ctx.state.lock:
        membership = ctx.state.get("cadence_memberships", id) or not_found()
        if membership["currently_on_cadence"]:
            ctx.state.update("cadence_memberships", id, {"currently_on_cadence": False, "current_state": "removed",
                                                         "updated_at": iso()})
            person = ctx.state.get("people", membership["person_id"])
            if person is not None:
                ids = [c for c in person.get("cadence_ids", []) if c != membership["cadence_id"]]
                ctx.state.update("people", person["id"], {"cadence_ids": ids})
    return empty_response(204)


# -- activities: integration actions and calls -------------------------------------

@api
def list_actions(ctx, request, token):
    docs = ctx.state.find("actions")
    if request.args.get("type"):
        docs = [d for d in docs if d["type"] == request.args["type"]]
    return paginate(ctx, request, docs, render_action, sortable=("created_at", "updated_at", "id"))


def render_action(ctx, action):
    return {"id": action["id"], "type": action["type"], "status": action["status"], "due": True,
            "due_on": action["due_on"], "multitouch_group_id": None, "action_details": None,
            "person": ref(ctx, "people", action.get("person_id")), "cadence": ref(ctx, "cadences", action.get("cadence_id")),
            "step": None, "user": ref(ctx, "users", TEAM_USER_ID),
            "created_at": action["created_at"], "updated_at": action["updated_at"]}


@api
def create_activity(ctx, request, token):
    """Complete an "integration" action (or task); Salesloft's only generic activity write."""
    params = body(request)
    if _blank(params.get("action_id")) and _blank(params.get("task_id")):
        invalid({"base": "action_id or task_id must be provided"})
    collection, key = ("actions", "action_id") if not _blank(params.get("action_id")) else ("tasks", "task_id")
    with ctx.state.lock:
        item = ctx.state.get(collection, _int_param(params[key], key)) or not_found()
        if item["type"] != "integration":
            invalid({key: "must be of type integration"})
        if item["status"] == "completed":
            invalid({key: "has already been completed"})
        stamp = iso()
        ctx.state.update(collection, item["id"], {"status": "completed", "updated_at": stamp})
    return json_response({"data": {"updated_at": stamp}})


def render_call(ctx, call):
    return {"id": call["id"], "to": call.get("to"), "duration": call.get("duration"),
            "disposition": call.get("disposition"), "sentiment": call.get("sentiment"),
            "recordings": [], "note": ref(ctx, "notes", call.get("note_id")),
            "user": ref(ctx, "users", call["user_id"]), "action": ref(ctx, "actions", call.get("action_id")),
            "called_person": ref(ctx, "people", call["person_id"]), "crm_activity": None,
            "cadence": None, "step": None, "created_at": call["created_at"], "updated_at": call["updated_at"]}


@api
def create_call(ctx, request, token):
    params = body(request)
    if _blank(params.get("person_id")):
        invalid({"person_id": "can't be blank"})
    person = ctx.state.get("people", _int_param(params["person_id"], "person_id")) or not_found()
    duration = params.get("duration")
    if duration is not None:
        duration = _int_param(duration, "duration")
    stamp = iso()
    note_id = None
    if params.get("notes"):
        note_id = ctx.state.insert("notes", {"content": params["notes"], "person_id": person["id"],
                                             "created_at": stamp})["id"]
    call = ctx.state.insert("calls", {
        "person_id": person["id"], "user_id": _user_of(ctx, params.get("user_guid")),
        "to": params.get("to") or person.get("phone"),
        "duration": duration, "disposition": params.get("disposition"), "sentiment": params.get("sentiment"),
        "note_id": note_id, "action_id": params.get("action_id"), "created_at": stamp, "updated_at": stamp})
    ctx.state.update("people", person["id"], {"_calls": person.get("_calls", 0) + 1})
    return json_response({"data": render_call(ctx, call)})


def _user_of(ctx, guid) -> int:
    """The id of the user a `user_guid` names (the authenticated user when absent); 422 if none."""
    if _blank(guid):
        return TEAM_USER_ID
    user = ctx.state.find_one("users", guid=str(guid))
    if user is None:
        invalid({"user_guid": "is not a user of this team"})
    return user["id"]


def render_note(ctx, note):
    kind = note.get("associated_type") or "person"
    return {"id": note["id"], "content": note["content"], "associated_type": kind,
            "associated_with": ref(ctx, "people" if kind == "person" else "accounts",
                                   note.get("associated_id", note.get("person_id"))),
            "call": ref(ctx, "activities/calls", note.get("call_id")), "user": ref(ctx, "users", note.get("user_id")),
            "created_at": note["created_at"], "updated_at": note.get("updated_at") or note["created_at"]}


@api
def create_note(ctx, request, token):
    params = body(request)
    errors = {key: "can't be blank" for key in ("content", "associated_with_type", "associated_with_id")
              if _blank(params.get(key))}
    if errors:
        invalid(errors)
    kind = str(params["associated_with_type"]).lower()
    if kind not in ("person", "account"):
        invalid({"associated_with_type": "must be one of: person, account"})
    associated = _int_param(params["associated_with_id"], "associated_with_id")
    if ctx.state.get("people" if kind == "person" else "accounts", associated) is None:
        not_found()
    stamp = iso()
    note = ctx.state.insert("notes", {"content": params["content"], "subject": params.get("subject"),
                                      "associated_type": kind, "associated_id": associated,
                                      "person_id": associated if kind == "person" else None,
                                      "user_id": _user_of(ctx, params.get("user_guid")),
                                      "created_at": stamp, "updated_at": stamp})
    return json_response({"data": render_note(ctx, note)})


@api
def list_notes(ctx, request, token):
    docs = ctx.state.find("notes")
    kind = request.args.get("associated_with_type")
    if kind:
        docs = [d for d in docs if (d.get("associated_type") or "person") == kind.lower()]
    associated = _int_arg(request.args, "associated_with_id")
    if associated is not None:
        docs = [d for d in docs if d.get("associated_id", d.get("person_id")) == associated]
    return paginate(ctx, request, docs, render_note)


def render_email(ctx, mail):
    return {"id": mail["id"], "subject": mail.get("subject"), "status": "sent", "bounced": False,
            "recipient_email_address": mail.get("recipient"), "recipient": ref(ctx, "people", mail.get("person_id")),
            "user": ref(ctx, "users", mail.get("user_id")), "sent_at": mail.get("sent_at"), "send_after": None,
            "headers": {"message_id": mail["message_id"]}, "view_tracking": False, "click_tracking": False,
            "personalization": None, "error_message": None, "action": None, "cadence": None, "step": None,
            "task": None, "mailing": None, "email_template": None, "crm_activity": None,
            "counts": {"clicks": 0, "views": 0, "replies": 0, "unique_devices": 0, "unique_locations": 0,
                       "attachments": 0},
            "created_at": mail["created_at"], "updated_at": mail["updated_at"]}


@api
def create_external_email(ctx, request, token):
    """Log an email sent outside Salesloft: a base64 MIME message, matched to the person it went to."""
    params = body(request)
    errors = {key: "can't be blank" for key in ("mailbox", "raw") if _blank(params.get(key))}
    if errors:
        invalid(errors)
    try:
        message = message_from_bytes(base64.b64decode(str(params["raw"]), validate=True))
    except ValueError:
        invalid({"raw": "must be a base64 encoded MIME message"})
    recipients = [address.lower() for _, address in getaddresses(message.get_all("To") or [])]
    if not recipients:
        invalid({"raw": "has no recipient"})
    sender = parseaddr(message.get("From") or "")[1].lower()
    user = ctx.state.find_one("users", email=sender) or ctx.state.find_one("users", email=str(params["mailbox"]).lower())
    person = next((p for r in recipients for p in ctx.state.find("people", _email=r)), None)
    sent = message.get("Date")
    stamp = iso()
    mail = ctx.state.insert("emails", {
        "message_id": message.get("Message-ID") or f"<{uuid.uuid4()}@sandbox.salesloft>",
        "subject": message.get("Subject"), "recipient": recipients[0], "mailbox": params["mailbox"],
        "person_id": person["id"] if person else None, "user_id": user["id"] if user else TEAM_USER_ID,
        "sent_at": parsedate_to_datetime(sent).isoformat() if sent else stamp,
        "body": message.get_payload(decode=True).decode(errors="replace") if not message.is_multipart() else "",
        "created_at": stamp, "updated_at": stamp})
    return json_response({"data": {"message_id": mail["message_id"]}}, 201)


@api
def list_emails(ctx, request, token):
    docs = ctx.state.find("emails")
    person_ids = list_arg(request.args, "person_id")
    if person_ids is not None:
        wanted = set(_ints(person_ids, "person_id"))
        docs = [d for d in docs if d.get("person_id") in wanted]
    return paginate(ctx, request, docs, render_email, sortable=("updated_at", "send_time"))


@api
def get_email(ctx, request, token, id):
    mail = ctx.state.get("emails", id) or not_found()
    return json_response({"data": render_email(ctx, mail)})


# -- account redaction ---------------------------------------------------------------

REDACTED_ACCOUNT = ("domain", "conversational_name", "description", "phone", "website", "linkedin_url",
                    "twitter_handle", "street", "city", "state", "postal_code", "crm_id")
REDACTED_PERSON = ("email_address", "first_name", "last_name", "phone", "phone_extension", "mobile_phone",
                   "home_phone", "linkedin_url", "twitter_handle", "personal_website", "personal_email_address",
                   "secondary_email_address", "city", "state", "work_city", "work_state", "crm_id")


@api
def account_redaction(ctx, request, token):
    params = body(request)
    if _blank(params.get("account_id")):
        invalid({"account_id": "can't be blank"})
    account_id = _int_param(params["account_id"], "account_id")
    dry_run = params.get("dry_run")
    dry_run = dry_run.lower() == "true" if isinstance(dry_run, str) else bool(dry_run)
    with ctx.state.lock:
        account = ctx.state.get("accounts", account_id) or not_found()
        people = ctx.state.find("people", account_id=account_id)
        stamp = iso()
        if not dry_run:
            with ctx.state.transaction():
                ctx.state.update("accounts", account_id, {**dict.fromkeys(REDACTED_ACCOUNT), "name": "Redacted",
                                                          "redacted_at": stamp, "updated_at": stamp})
                for person in people:
                    ctx.state.update("people", person["id"], {**dict.fromkeys(REDACTED_PERSON), "_email": None,
                                                              "redacted_at": stamp, "updated_at": stamp})
        request_doc = ctx.state.insert("redactions", {
            "account_id": account["id"], "dry_run": dry_run, "people": len(people),
            "status": "dry_run" if dry_run else "completed", "created_at": stamp})
    return json_response({"data": {"id": request_doc["id"], "account_id": account["id"], "dry_run": dry_run,
                                   "status": request_doc["status"], "people": len(people)}})


@api
def list_calls(ctx, request, token):
    args = request.args
    equals = {}
    ids = list_arg(args, "ids")
    if ids is not None:
        equals["id"] = _ints(ids, "ids")
    person_ids = list_arg(args, "person_id")
    if person_ids is not None:
        equals["person_id"] = _ints(person_ids, "person_id")
    docs = ctx.state.find("calls", **equals)
    for stamp in ("updated_at", "created_at"):
        check = time_filters(args, stamp)
        if check:
            docs = [d for d in docs if check(d)]
    return paginate(ctx, request, docs, render_call, sortable=("created_at", "updated_at", "id"))


@api
def get_call(ctx, request, token, id):
    call = ctx.state.get("calls", id) or not_found()
    return json_response({"data": render_call(ctx, call)})


# -- bulk jobs -------------------------------------------------------------------

def render_job(ctx, job):
    return {k: job[k] for k in ("id", "type", "name", "state", "ready_to_execute", "scopes", "total", "processed",
                                "errors", "created_at", "updated_at", "marked_ready_at", "started_at",
                                "finished_at")}


def advance(ctx, job):
    """Run an executing job once it has been executing long enough; returns the fresh job."""
    if job["state"] != "executing" or now() - job["_started"] < float(ctx.settings["salesloft_bulk_seconds"]):
        return job
    with ctx.state.lock:
        job = ctx.state.get("bulk_jobs", job["id"])
        if job["state"] != "executing":
            return job
        token = {"kind": "api_key"}  # the job runs with the rights it was created with
        errors = 0
        with ctx.state.transaction():
            for row in ctx.state.find("job_data", bulk_job_id=job["id"]):
                try:
                    person, kind = upsert_person(ctx, token, {"upsert_key": None, **row["record"]})
                    outcome = {"status": "success", "error": None,
                               "resource": {"person": render_person(ctx, person), "upsert_type": kind}}
                except Exception as exc:
                    outcome = {"status": "error", "error": _error_text(exc), "resource": None}
                    errors += 1
                ctx.state.update("job_data", row["id"], {**outcome, "finished_at": iso()})
            stamp = iso()
            return ctx.state.update("bulk_jobs", job["id"], {"state": "done", "processed": job["total"],
                                                             "errors": errors, "finished_at": stamp,
                                                             "updated_at": stamp})


def _error_text(exc) -> str:
    response = getattr(exc, "response", None)
    if response is None:
        return "Unexpected error"
    data = response.get_json(silent=True) or {}
    if isinstance(data.get("errors"), dict):
        return "; ".join(f"{field} {msg}" if field != "base" else msg
                         for field, messages in data["errors"].items() for msg in messages)
    return data.get("error") or f"HTTP {response.status_code}"


@api
def list_jobs(ctx, request, token):
    args = request.args
    docs = [advance(ctx, job) for job in ctx.state.find("bulk_jobs")]
    states = list_arg(args, "state")
    if states:
        docs = [d for d in docs if d["state"] in states]
    after = _int_arg(args, "id[gt]")
    if after is not None:
        docs = [d for d in docs if d["id"] > after]
    return _cursor_page(ctx, request, docs, render_job)


def _cursor_page(ctx, request, docs, render):
    per_page = _int_arg(request.args, "per_page", 25)
    if not 1 <= per_page <= PER_PAGE_MAX:
        invalid({"per_page": f"must be between 1 and {PER_PAGE_MAX}"})
    docs = sorted(docs, key=lambda d: d["id"])[:per_page]
    return json_response({"metadata": {"filtering": {}, "paging": {"per_page": per_page, "current_page": 1,
                                                                   "next_page": None, "prev_page": None},
                                       "sorting": {"sort_by": "id", "sort_direction": "ASC"}},
                          "data": [render(ctx, d) for d in docs]})


@api
def create_job(ctx, request, token):
    params = body(request)
    if _blank(params.get("type")):
        invalid({"type": "can't be blank"})
    if params["type"] not in BULK_TYPES:
        invalid({"type": f"is not a supported bulk job type ({', '.join(BULK_TYPES)})"})
    stamp = iso()
    job = ctx.state.insert("bulk_jobs", {
        "type": params["type"], "name": params.get("name"), "state": "open", "ready_to_execute": False,
        "scopes": [], "total": 0, "processed": 0, "errors": 0, "created_at": stamp, "updated_at": stamp,
        "marked_ready_at": None, "started_at": None, "finished_at": None})
    return json_response({"data": render_job(ctx, job)})


@api
def get_job(ctx, request, token, id):
    job = ctx.state.get("bulk_jobs", id) or not_found()
    return json_response({"data": render_job(ctx, advance(ctx, job))})


@api
def update_job(ctx, request, token, id):
    params = body(request)
    with ctx.state.lock:
        job = ctx.state.get("bulk_jobs", id) or not_found()
        if job["state"] != "open":
            invalid({"state": "must be open to update the bulk job"})
        changes = {"updated_at": iso()}
        if "name" in params:
            changes["name"] = params["name"]
        ready = params.get("ready_to_execute")
        if isinstance(ready, str):
            ready = ready.lower() == "true"
        if ready:
            stamp = iso()
            changes.update(ready_to_execute=True, state="executing", marked_ready_at=stamp, started_at=stamp,
                           _started=now(), total=ctx.state.count("job_data", bulk_job_id=id))
        job = ctx.state.update("bulk_jobs", id, changes)
    return json_response({"data": render_job(ctx, advance(ctx, job))})


@api
def create_job_data(ctx, request, token, id):
    rows = read_params(request).get("data")
    if not isinstance(rows, list) or not rows:
        invalid({"data": "must be a non-empty array"})
    if len(rows) > JOB_DATA_MAX:
        invalid({"data": f"must be {JOB_DATA_MAX} records or less"})
    if not all(isinstance(row, dict) for row in rows):
        invalid({"data": "must contain objects"})
    with ctx.state.lock:
        job = ctx.state.get("bulk_jobs", id) or not_found()
        if job["state"] != "open":
            invalid({"bulk_job": "is not open; job data can only be added while open"})
        stamp = iso()
        with ctx.state.transaction():
            for row in rows:
                ctx.state.insert("job_data", {"bulk_job_id": id, "record": row, "status": "pending", "error": None,
                                              "resource": None, "created_at": stamp, "started_at": None,
                                              "finished_at": None})
            ctx.state.update("bulk_jobs", id, {"updated_at": stamp})
    return json_response({"data": {"records": len(rows)}})


def render_result(ctx, row):
    return {"id": row["id"], "status": row["status"], "error": row["error"], "record": row["record"],
            "resource": row["resource"]}


def _rows(ctx, request, id, only_done):
    job = ctx.state.get("bulk_jobs", id) or not_found()
    job = advance(ctx, job)
    if only_done and job["state"] != "done":
        return _cursor_page(ctx, request, [], render_result)
    args = request.args
    docs = ctx.state.find("job_data", bulk_job_id=id)
    statuses = list_arg(args, "status")
    if statuses:
        docs = [d for d in docs if d["status"] in statuses]
    after = _int_arg(args, "id[gt]")
    if after is not None:
        docs = [d for d in docs if d["id"] > after]
    return _cursor_page(ctx, request, docs, render_result)


@api
def job_results(ctx, request, token, id):
    return _rows(ctx, request, id, only_done=True)


@api
def list_job_data(ctx, request, token, id):
    return _rows(ctx, request, id, only_done=False)


# -- routes ----------------------------------------------------------------------

def _routes(path, methods_and_handlers):
    """Both spellings of every API path: with and without ".json"."""
    rules = []
    for method, handler in methods_and_handlers:
        rules.append(Rule(API + path, endpoint=handler, methods=[method]))
        rules.append(Rule(API + path + ".json", endpoint=handler, methods=[method]))
    return rules


RULES = [
    Rule("/oauth/authorize", endpoint=oauth.authorize(OAUTH), methods=["GET", "POST"]),
    Rule("/oauth/token", endpoint=oauth.token(OAUTH), methods=["POST"]),
    Rule("/oauth/revoke", endpoint=oauth.revoke(OAUTH), methods=["POST"]),
    *_routes("/me", [("GET", me)]),
    *_routes("/team", [("GET", team)]),
    *_routes("/users", [("GET", list_users)]),
    *_routes("/users/<int:id>", [("GET", get_user)]),
    *_routes("/custom_fields", [("GET", list_custom_fields)]),
    *_routes("/people", [("GET", list_people), ("POST", create_person)]),
    *_routes("/people/<int:id>", [("GET", get_person), ("PUT", update_person), ("DELETE", delete_person)]),
    *_routes("/person_upserts", [("POST", person_upsert)]),
    *_routes("/accounts", [("GET", list_accounts), ("POST", create_account)]),
    *_routes("/accounts/<int:id>", [("GET", get_account), ("PUT", update_account), ("DELETE", delete_account)]),
    *_routes("/account_upserts", [("POST", account_upsert)]),
    *_routes("/cadences", [("GET", list_cadences)]),
    *_routes("/cadences/<int:id>", [("GET", get_cadence)]),
    *_routes("/cadence_memberships", [("GET", list_memberships), ("POST", create_membership)]),
    *_routes("/cadence_memberships/<int:id>", [("GET", get_membership), ("DELETE", delete_membership)]),
    *_routes("/actions", [("GET", list_actions)]),
    *_routes("/activities", [("POST", create_activity)]),
    *_routes("/activities/calls", [("GET", list_calls), ("POST", create_call)]),
    *_routes("/activities/calls/<int:id>", [("GET", get_call)]),
    *_routes("/activities/emails", [("GET", list_emails)]),
    *_routes("/activities/emails/<int:id>", [("GET", get_email)]),
    *_routes("/external_emails", [("POST", create_external_email)]),
    *_routes("/notes", [("GET", list_notes), ("POST", create_note)]),
    *_routes("/data_control/account_redaction", [("POST", account_redaction)]),
    *_routes("/bulk_jobs", [("GET", list_jobs), ("POST", create_job)]),
    *_routes("/bulk_jobs/<int:id>", [("GET", get_job), ("PUT", update_job)]),
    *_routes("/bulk_jobs/<int:id>/job_data", [("GET", list_job_data), ("POST", create_job_data)]),
    *_routes("/bulk_jobs/<int:id>/results", [("GET", job_results)]),
]


# -- demo data -------------------------------------------------------------------

def prepare_seed(collection, doc):
    """Fill what the handlers rely on when tests or the demo post raw documents."""
    stamp = iso()
    doc.setdefault("created_at", stamp)
    doc.setdefault("updated_at", stamp)
    if collection == "people":
        doc["_email"] = str(doc["email_address"]).strip().lower() if doc.get("email_address") else None
        doc.setdefault("cadence_ids", [])
        doc.setdefault("owner_id", TEAM_USER_ID)
    elif collection == "accounts" and doc.get("domain"):
        doc["domain"] = _domain(doc["domain"])
    elif collection == "cadences":
        for key, value in (("team_cadence", True), ("shared", True), ("draft", False), ("archived_at", None),
                           ("current_state", "active"), ("owner_id", TEAM_USER_ID), ("groups", []), ("tags", [])):
            doc.setdefault(key, value)
    return doc


CADENCES = [
    (10, "Inbound Leads - Fast Follow", True, "active", None),
    (11, "Outbound - Enterprise", True, "active", None),
    (12, "Webinar Follow-up", False, "active", None),
    (13, "Closed Lost Re-engage (archived)", True, "archived", "2026-06-30T12:00:00.000000Z"),
]


def seed(state):
    stamp = "2026-01-05T09:00:00.000000Z"
    state.insert("team", {"id": 1, "name": "Sandbox Team", "license_type": "Prospector", "plan": "Advanced",
                          "created_at": stamp, "updated_at": stamp})
    for id, first, last, email in ((1, "Sandy", "Admin", "admin@sandbox.example"),
                                   (2, "Riley", "Rep", "riley@sandbox.example")):
        state.insert("users", {"id": id, "guid": str(uuid.uuid5(uuid.NAMESPACE_DNS, email)), "name": f"{first} {last}",
                               "first_name": first, "last_name": last, "email": email, "active": True,
                               "time_zone": "US/Eastern", "team_admin": id == 1, "job_role": "Sales",
                               "created_at": stamp, "updated_at": stamp})
    for id, name, team_cadence, current_state, archived_at in CADENCES:
        state.insert("cadences", {
            "id": id, "name": name, "team_cadence": team_cadence, "shared": True, "draft": False,
            "archived_at": archived_at, "current_state": current_state, "external_identifier": None,
            "cadence_function": "outbound", "cadence_priority": None, "owner_id": 1, "groups": [], "tags": [],
            "added_stage": None, "bounced_stage": None, "finished_stage": None, "replied_stage": None,
            "remove_bounces_enabled": True, "remove_replies_enabled": True, "opt_out_link_included": True,
            "cadence_framework_id": None, "created_at": stamp, "updated_at": stamp})
    for id, name, field_type in ((1, "Plan", "person"), (2, "Lead Score", "person"), (3, "Segment", "company")):
        state.insert("custom_fields", {"id": id, "name": name, "field_type": field_type, "value_type": "text",
                                       "created_at": stamp, "updated_at": stamp})
    for id, type_ in ((501, "integration"), (502, "integration"), (503, "phone")):
        state.insert("actions", {"id": id, "type": type_, "status": "pending", "due_on": "2026-01-06",
                                 "person_id": None, "cadence_id": 11, "created_at": stamp, "updated_at": stamp})
    state.insert("tasks", {"id": 601, "type": "integration", "status": "pending", "created_at": stamp,
                           "updated_at": stamp})
