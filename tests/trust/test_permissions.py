"""The permission matrix: every API operation and every console URL, tried as the
organization's admin, a member, a read-only member, an outsider, a member holding a custom
role that reads ("custom") and one with no organization role granted a role on one sync ("granted").

The expectations are written out here, apart from console/permissions.py:
- read-only may read (GET) everything but the audit log, and change nothing;
- members may also build and run (models, syncs, runs, bulk syncs);
- only admins change connections, API keys, members and notifications;
- an outsider (another organization's admin) gets 404 for this organization's objects;
- "custom" (a custom role allowing read, or for a key an organization-wide policy) is read-only;
- "granted" reads and runs the one sync (read, trigger) and lists syncs, models, connections and
  bulk syncs (showing only that sync); other objects of those kinds are 404 to read, and every
  other request is refused.
"Allowed" means the answer is neither 401 nor 403 (a 400 for an empty body is fine).
"""

import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from console.access.services import create_policy, create_role, share
from console.accounts.models import Membership, Role
from console.accounts.services import add_member, create_api_key, sign_up
from console.api.api import api as ninja_api
from console.engine.models import Execution, ExecutionStatus
from console.syncs.models import Sync
from tests.trust.conftest import one_of_each

pytestmark = pytest.mark.django_db

ROLES = ["admin", "member", "read_only", "outsider", "custom", "granted"]

# ---- what the test expects ---------------------------------------------------------

API_ADMIN_CHANGES = [r"^/api/connections$", r"^/api/connections/test$", r"^/api/connections/connect/$", r"^/api/connections/\{[a-z_]+\}$",
                     r"^/api/connection_types/.*/parameter_values$", r"^/api/webhooks", r"^/api/notifications",
                     r"^/api/organization/users", r"^/api/organization/record-logging$", r"^/api/permissions/",
                     r"/proxy/settings$"]
API_READING_POSTS = [r"/modelsync/targetobjects$", r"^/api/model-preview$", r"^/api/connections/\{[a-z_]+\}/query$"]
API_ADMIN_READS = [r"^/api/audit_events"]
# partner routes: every organization's key is refused, whatever its role (tests/organizations tries partner keys)
API_PARTNER_ONLY = [r"^/api/organizations(/|$)"]
# authenticated by a Connect session's token, whatever the key (tests/connections/test_connect_sdk.py)
API_TOKEN_ONLY = [r"^/api/connections/connect/session$"]

CONSOLE_ADMIN_CHANGES = [r"^/connections/", r"^/settings", r"/grants(/|$)"]
CONSOLE_READING_POSTS = [r"^/models/preview$", r"^/signin$", r"^/signup$", r"^/signout$",
                         r"^/organizations/switch$"]
CONSOLE_ACTING_GETS = [r"/new(/|$)", r"/edit$", r"/delete$", r"/authorize$"]
CONSOLE_ADMIN_READS = [r"^/audit"]
# pages outside the organization's walls (no sign-in needed or none to wall)
CONSOLE_SKIPPED = [r"^/static/", r"^/execution-logs/", r"^/bulk/execution-logs/", r"^/connections/oauth/callback$",
                   r"^/connect(/|$)",
                   r"^/signin$", r"^/signup$", r"^/signout$"]


def any_match(patterns, path):
    return any(re.search(p, path) for p in patterns)


def api_needs(method, template) -> str:
    if any_match(API_ADMIN_READS, template):
        return "admin"
    if method == "GET" or any_match(API_READING_POSTS, template):
        return "read_only"
    return "admin" if any_match(API_ADMIN_CHANGES, template) else "member"


def console_needs(method, path) -> str:
    if any_match(CONSOLE_ADMIN_READS, path):
        return "admin"
    acting = (method == "POST" and not any_match(CONSOLE_READING_POSTS, path)) or (
        method == "GET" and any_match(CONSOLE_ACTING_GETS, path))
    if not acting:
        return "read_only"
    return "admin" if any_match(CONSOLE_ADMIN_CHANGES, path) else "member"


RANK = {"read_only": 0, "member": 1, "admin": 2}


GOVERNED_OBJECT = re.compile(r"^/(api/)?(syncs|models|connections|bulk/syncs|bulk)/[0-9a-f-]{36}(/|$)")
GOVERNED_LIST = re.compile(r"^/(api/)?(syncs|models|connections|bulk/syncs|bulk)$")
TRIGGERING = [r"/executions(/|$)", r"/runs/start$", r"/cancel$", r"/retry$"]


def expected(role, needed, names_an_object, path="", sync_id="") -> str:
    if role == "outsider":
        return "not found" if names_an_object else "skip"
    if role == "granted":
        return granted_expected(needed != "read_only", path, str(sync_id))
    rank = RANK["read_only" if role == "custom" else role]
    return "allowed" if rank >= RANK[needed] else "refused"


def granted_expected(acting, path, sync_id) -> str:
    if GOVERNED_OBJECT.match(path):
        if re.match(rf"^/(api/)?syncs/{sync_id}(/|$)", path):
            return "allowed" if not acting or any_match(TRIGGERING, path) else "refused"
        return "refused" if acting else "not found"
    if path in ("/api/health", "/api/me", "/") and not acting:
        return "allowed"  # no key needed; who a key is; the welcome page where sign-in lands
    return "allowed" if GOVERNED_LIST.match(path) and not acting else "refused"


def verdict(status) -> str:
    if status == 403:
        return "refused"
    if status == 404:
        return "not found"
    return "refused" if status == 401 else "allowed"


# ---- the organization and its people ----------------------------------------------


@pytest.fixture
def world(organization, org_admin, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    ids = one_of_each(organization)
    key, _ = create_api_key(organization, "existing")
    people = {"admin": org_admin}
    for role in ("member", "read_only"):
        people[role] = sign_up(f"{role}@example.com", "correct-horse-battery", f"Own {role}")
        add_member(organization, people[role], role)
        # their current organization is the shared one
        Membership.objects.filter(user=people[role]).exclude(organization=organization).delete()
    people["outsider"] = sign_up("outsider@example.com", "correct-horse-battery", "Globex")
    readers = create_role(organization, "Readers", ["read"])
    runners = create_role(organization, "Runners", ["read", "trigger"])
    for role in ("custom", "granted"):
        people[role] = sign_up(f"{role}@example.com", "correct-horse-battery", f"Own {role}")
        Membership.objects.filter(user=people[role]).delete()
        add_member(organization, people[role], "")
    membership = Membership.objects.get(user=people["custom"])
    membership.custom_roles.add(readers)
    sync = Sync.objects.get(pk=ids["sync"])
    grant = share(organization, "sync", sync, people["granted"], runners)
    return {
        "people": people, "readers": readers, "runners": runners,
        "ids": {**ids, "user": org_admin.pk, "key": key.pk, "role": readers.pk, "policy": grant.pk,
                "membership": Membership.objects.get(user=people["member"]).pk},
    }


def api_client(world, role) -> Client:
    user = world["people"][role]
    organization = user.memberships.get().organization
    key_role = {"outsider": Role.ADMIN, "custom": "", "granted": ""}.get(role, role)
    key, raw = create_api_key(organization, role, role=key_role)
    if role == "custom":  # a key holds no roles: an organization-wide policy names it
        create_policy(organization, "Key reads", [{"action": "read", "role_ids": [str(world["readers"].pk)]}],
                      api_keys=[key])
    if role == "granted":
        create_policy(organization, "Key runs one sync", [
            {"action": "read", "role_ids": [str(world["runners"].pk)]},
            {"action": "trigger", "role_ids": [str(world["runners"].pk)]}],
            target_kind="sync", target_id=world["ids"]["sync"], api_keys=[key])
    return Client(headers={"Authorization": f"Bearer {raw}"})


def console_client(world, role) -> Client:
    client = Client()
    client.force_login(world["people"][role])
    return client


# ---- the API ------------------------------------------------------------------------

API_IDS = [("/api/syncs/{sync_id}/executions/", "execution"), ("/api/syncs/", "sync"),
           ("/api/bulk/syncs/{id}/executions/", "bulk_execution"), ("/api/bulk/syncs/", "bulk"),
           ("/api/models/", "model"), ("/api/connections/", "connection"), ("/api/webhooks/", "webhook"),
           ("/api/organization/users/", "user")]


def api_operations():
    schema = ninja_api.get_openapi_schema(path_prefix="/api")
    for template, methods in sorted(schema["paths"].items()):
        for method in methods:
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), template


def fill_api_path(template, ids) -> str:
    values = {"sync_id": ids["sync"], "connection_id": ids["connection"], "user_id": ids["user"],
              "type_id": "postgresql", "exec_id": ids["bulk_execution"], "schema_id": "Contact", "field_id": "Email",
              "type": "records", "filename": "records.json", "property": "account", "id": None,
              "org_id": "00000000-0000-0000-0000-000000000000", "schedule_id": "00000000-0000-0000-0000-000000000000"}
    kind = next((kind for prefix, kind in API_IDS if template.startswith(prefix)), None)
    if template.startswith("/api/syncs/{sync_id}/executions/"):
        kind = "execution"
    values["id"] = ids[kind] if kind else ids["model"]
    if template.startswith("/api/jobs/"):
        values["type"] = "createmodel"
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)


API_CASES = [(method, template, role) for method, template in api_operations() for role in ROLES]


def url_conf_routes(patterns=None, prefix="/"):
    """Every route of the URL conf, as written there ("/syncs/<uuid:sync_id>")."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from url_conf_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def url_conf_api_routes():
    """Every /api/ route Django would answer, as OpenAPI-style templates ({name})."""
    docs = {"/api/", "/api/openapi.json", "/api/docs"}  # django-ninja's own pages
    return {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route) for route in url_conf_routes()
            if route.startswith("/api/") and route not in docs}


def test_the_matrix_covers_every_api_operation():
    covered = {template for _, template, _ in API_CASES}
    assert covered == url_conf_api_routes()
    assert {role for _, _, role in API_CASES} == set(ROLES)


@pytest.mark.parametrize("method, template, role", API_CASES, ids=[f"{m} {t} as {r}" for m, t, r in API_CASES])
def test_api_operation(method, template, role, world):
    names_an_object = "{" in template and not template.startswith("/api/connection_types/")
    path = fill_api_path(template, world["ids"])
    want = expected(role, api_needs(method, template), names_an_object, path, world["ids"]["sync"])
    partner_only = any_match(API_PARTNER_ONLY, template)
    if partner_only:
        want = "refused"
    if want == "skip":
        pytest.skip("an outsider's own collection")
    if any_match(API_TOKEN_ONLY, template):
        pytest.skip("a Connect session's token, not a role, opens it")
    client = api_client(world, role)
    response = client.generic(method, path, "{}", content_type="application/json")
    got = verdict(response.status_code)
    if want == "allowed" and got == "not found":
        got = "allowed"  # the role passed; an id of another kind in the path is the view's business
    if role == "outsider" and response.status_code in (400, 422):
        got = "not found"  # the empty body was refused before the lookup: nothing seen, nothing changed
    assert got == want, (response.status_code, response.content[:300])
    if got == "refused":
        body = response.json()
        if partner_only:
            assert body["status"] == 403 and body["key"] == "partner_key_required"
        else:
            assert body["status"] == 403 and body["metadata"]["required_role"] in ("read_only", "member", "admin")
            assert role in ("custom", "granted") or body["metadata"]["required_role"] != "read_only"


# ---- the console --------------------------------------------------------------------


def console_routes():
    for path in url_conf_routes():
        if not path.startswith("/api") and not path.startswith("/^") and not any_match(CONSOLE_SKIPPED, path):
            yield path


def fill_console_path(route, ids) -> str:
    values = {"connection_id": ids["connection"], "model_id": ids["model"], "execution_id": ids["execution"],
              "key_id": ids["key"], "membership_id": ids["membership"], "type_id": "postgresql",
              "role_id": ids["role"], "policy_id": ids["policy"], "schema_id": "Contact", "field_id": "Email",
              "query_id": "00000000-0000-0000-0000-000000000000", "schedule_id": "00000000-0000-0000-0000-000000000000"}
    values["object_id"] = {"connections": ids["connection"], "models": ids["model"], "syncs": ids["sync"]}.get(
        route.split("/")[1])
    values["sync_id"] = ids["bulk"] if route.startswith("/bulk/") else ids["sync"]
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


CONSOLE_CASES = [(method, route, role) for route in console_routes() for method in ("GET", "POST")
                 for role in ROLES]


def test_the_matrix_covers_every_console_page():
    routes = {route for _, route, _ in CONSOLE_CASES}
    assert {"/connections", "/models/<uuid:model_id>", "/settings/members", "/syncs/<uuid:sync_id>/runs"} <= routes


@pytest.mark.parametrize("method, route, role", CONSOLE_CASES,
                         ids=[f"{m} {r} as {who}" for m, r, who in CONSOLE_CASES])
def test_console_url(method, route, role, world):
    path = fill_console_path(route, world["ids"])
    names_an_object = "<" in route and "<str:type_id>" not in route
    want = expected(role, console_needs(method, path), names_an_object, path, world["ids"]["sync"])
    if want == "skip":
        pytest.skip("an outsider's own pages")
    response = console_client(world, role).generic(method, path, "")
    got = verdict(response.status_code)
    if want == "allowed" and got == "not found":
        got = "allowed"
    if role == "outsider" and response.status_code == 405:
        got = "not found"  # the method was refused before the lookup: nothing seen, nothing changed
    assert got == want, (response.status_code, response.content[:300])


def test_refusals_say_which_role_is_needed(world):
    sync = world["ids"]["sync"]
    page = console_client(world, "read_only").post(f"/syncs/{sync}/runs/start", {"kind": "run"})
    assert page.status_code == 403
    assert not Execution.objects.filter(sync_id=sync).exclude(status=ExecutionStatus.COMPLETED).exists()
    answer = api_client(world, "member").post("/api/connections", "{}", content_type="application/json")
    assert answer.status_code == 403
    assert answer.json()["message"] == ("Only organization admins can do this. "
                                        "This API key has the Member role.")


def test_an_admin_changes_roles_but_never_removes_the_last_admin(world):
    admin = console_client(world, "admin")
    member = Membership.objects.get(user=world["people"]["member"])
    assert admin.post(f"/settings/members/{member.pk}/role", {"role": "read_only"}).status_code == 302
    member.refresh_from_db()
    assert member.role == "read_only"
    own = Membership.objects.get(user=world["people"]["admin"])
    page = admin.post(f"/settings/members/{own.pk}/role", {"role": "member"}, follow=True)
    assert "needs at least one admin" in page.content.decode()
    own.refresh_from_db()
    assert own.role == "admin"


def test_an_admin_adds_a_member_who_gets_a_password_once(world):
    admin = console_client(world, "admin")
    page = admin.post("/settings/members", {"email": "New@Example.com", "role": "member"})
    assert page.status_code == 200
    password = page.context["invited"]["password"]
    assert password and password in page.content.decode()
    newcomer = Client()
    assert newcomer.login(username="new@example.com", password=password)
    assert password not in admin.get("/settings").content.decode()
