"""The registry is the one list of providers: a provider defined here, with its own
sandbox routes, shows in the catalogue, in target discovery and in a completed run,
and capabilities are what a provider implements."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.routing import Rule

from console.celery import app as celery_app
from integrations import catalogue, registry
from integrations.base import ConfigField, ConnectionFailed, RecordOutcome, TargetField, TargetObject, Writer
from integrations.connection_types import BearerAuth, get
from integrations.provider import Provider, Targets
from integrations.sandbox import SandboxServer
from integrations.sandbox.http import json_response, read_json
from integrations.targets import mode

KEY = "fake-crm-key"
ROOT = Path(__file__).resolve().parents[2]
EVERYWHERE = """
import django
django.setup()
from integrations import catalogue, registry, targets
from integrations.sandbox.providers import mounted
from console.bulk.services import SOURCES
from console.engine.ratelimit import BUDGETS
print(json.dumps({"catalogue": [kind.id for kind in catalogue.types(files=True)],
                  "targets": [p.id for p in registry.providers() if targets.supports(p.id)],
                  "bulk": sorted(SOURCES), "budgets": sorted(BUDGETS),
                  "sandbox": [m.NAME for m in mounted()]}))
"""


# ---- the fake CRM's emulation: three routes under /fakecrm --------------------------


def authorized(request):
    if request.headers.get("Authorization") != f"Bearer {KEY}":
        return json_response({"message": "Unknown API key"}, 401)
    return None


def me(ctx, request):
    return authorized(request) or json_response({"user": "owner@example.com"})


def upsert(ctx, request):
    refused = authorized(request)
    if refused:
        return refused
    results = []
    for record in read_json(request)["records"]:
        if "@" not in str(record.get("email")):
            results.append({"ok": False, "error": "email is not an address"})
            continue
        found = ctx.state.find_one("contacts", email=record["email"])
        stored = ctx.state.update("contacts", found["id"], record) if found else ctx.state.insert("contacts", record)
        results.append({"ok": True, "id": str(stored["id"]), "action": "updated" if found else "inserted"})
    return json_response({"results": results})


EMULATION = SimpleNamespace(NAME="fakecrm", PREFIX="/fakecrm", OAUTH=None, RULES=[
    Rule("/me", endpoint=me, methods=["GET"]),
    Rule("/contacts/upsert", endpoint=upsert, methods=["POST"]),
])


# ---- the fake CRM's provider -------------------------------------------------------


class ContactWriter(Writer):
    def __init__(self, session):
        self.http = session.http

    def write(self, records):
        response = self.http.post("contacts/upsert", json={"records": [r.fields for r in records]})
        if response.status_code != 200:
            raise ConnectionFailed(f"Fake CRM answered {response.status_code}")
        return [RecordOutcome(record.identity, ok=result["ok"], action=result.get("action", ""),
                              target_id=result.get("id"), error=result.get("error"))
                for record, result in zip(records, response.json()["results"])]


class FakeCrm(Provider):
    id = "fakecrm"
    name = "Fake CRM"
    description = "A CRM defined by a test."
    fields = (ConfigField("api_key", "API key", required=True, secret=True),)
    targets = Targets(
        label="Fake CRM",
        objects=lambda session: [TargetObject("contacts", "Contacts", (mode("updateOrCreate"),))],
        fields=lambda session, object_id, properties=None: [
            TargetField("email", "Email", identity=True), TargetField("name", "Name")],
    )
    writer = staticmethod(lambda session, spec: ContactWriter(session))

    def api_url(self, config, sandbox_url=""):
        return sandbox_url.rstrip("/") + "/fakecrm"

    def static_auth(self, config):
        return BearerAuth(config.get("api_key") or "")

    def check(self, session):
        get(session, "me", "Fake CRM")
        return {}

    def sandbox(self):
        return EMULATION


class ReadOnlyCrm(FakeCrm):
    id = "readonlycrm"
    writer = None


@pytest.fixture
def fake_crm(settings):
    """The fake CRM registered, and a sandbox started while it is, its URL the console's SANDBOX_URL."""
    with registry.extra(FakeCrm()) as provider, SandboxServer() as server:
        settings.SANDBOX_URL = server.url
        settings.EGRESS_ALLOW = [*settings.EGRESS_ALLOW, f"127.0.0.1:{server.port}"]
        yield SimpleNamespace(provider=provider, sandbox=server)


@pytest.fixture
def runs_here():
    """Celery tasks run in this process, where the fake CRM is registered."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


def post(api, path, body):
    return api.post(path, json.dumps(body), content_type="application/json")


def test_capabilities_are_what_each_provider_implements():
    operations = {kind.id: kind.capabilities.operations() for kind in catalogue.types(files=True)}
    assert operations["salesloft"] == operations["gong"] == operations["linkedinads"] == ["modelsync_destination"]
    assert operations["httpapi"] == ["modelsync_destination"]
    assert operations["salesforce"] == operations["hubspot"] == ["models", "modelsync_destination", "bulksync_source"]
    assert operations["postgresql"] == ["models", "bulksync_source"]


@pytest.mark.django_db
def test_the_api_offers_providers_as_sources_only_where_they_have_a_source(api):
    types = {kind["id"]: {k: kind["capabilities"][k] for k in ("source", "destination")}
             for kind in api.get("/api/connection_types").json()["data"]}
    assert types["salesloft"] == types["gong"] == types["linkedinads"] == {"source": False, "destination": True}
    assert types["salesforce"] == types["hubspot"] == {"source": True, "destination": True}


def test_a_provider_without_a_writer_is_no_sync_target():
    with registry.extra(ReadOnlyCrm()):
        assert catalogue.get("readonlycrm").capabilities.operations() == []
    assert catalogue.get("readonlycrm") is None


def test_a_provider_id_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        with registry.extra(type("Again", (FakeCrm,), {"id": "salesloft"})()):
            pass


def providers_everywhere(integrations: Path) -> dict:
    """What the catalogue, target discovery, bulk sources, budgets and the sandbox list, in a
    fresh interpreter whose `integrations` package is the one at `integrations`."""
    code = f"import json, sys; sys.path[:0] = [{str(integrations.parent)!r}, {str(ROOT)!r}]\n" + EVERYWHERE
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "console.settings"},
                          cwd=integrations.parent)  # Celery puts the working folder first on sys.path
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_removing_a_providers_folder_removes_it_everywhere(tmp_path):
    copy = tmp_path / "integrations"
    shutil.copytree(ROOT / "integrations", copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = providers_everywhere(copy)
    assert "hubspot" in before["catalogue"] and "hubspot" in before["targets"] and "hubspot" in before["bulk"]
    assert "hubspot" in before["budgets"] and "hubspot" in before["sandbox"]
    shutil.rmtree(copy / "hubspot")
    after = providers_everywhere(copy)
    assert after == {name: [item for item in listed if item != "hubspot"] for name, listed in before.items()}


def test_the_sandbox_mounts_what_the_registry_finds(fake_crm):
    mounted = {module.NAME: module.PREFIX for module in fake_crm.sandbox.app.providers}
    assert mounted["fakecrm"] == "/fakecrm"
    assert {"salesloft", "gong", "linkedin", "salesforce", "hubspot", "webhook"} <= set(mounted)


@pytest.mark.django_db(transaction=True)
def test_a_provider_defined_here_is_offered_discovered_and_synced(fake_crm, api, file_folder, runs_here):
    types = {kind["id"]: kind for kind in api.get("/api/connection_types").json()["data"]}
    assert types["fakecrm"]["name"] == "Fake CRM"
    assert (types["fakecrm"]["capabilities"]["source"], types["fakecrm"]["capabilities"]["destination"]) == (
        False, True)

    refused = post(api, "/api/connections/test", {"type": "fakecrm", "configuration": {"api_key": "wrong"}})
    assert refused.status_code == 400 and "Unknown API key" in refused.json()["message"]
    assert post(api, "/api/connections/test", {"type": "fakecrm", "configuration": {"api_key": KEY}}).status_code == 200
    crm = post(api, "/api/connections", {"name": "CRM", "type": "fakecrm", "configuration": {"api_key": KEY}})
    assert crm.status_code == 200, crm.content
    crm = crm.json()["data"]
    assert crm["status"] == "healthy" and KEY not in json.dumps(crm)

    objects = api.get(f"/api/connections/{crm['id']}/modelsync/targetobjects").json()["data"]
    assert [(o["id"], o["name"]) for o in objects] == [("contacts", "Contacts")]
    fields = api.get(f"/api/connections/{crm['id']}/modelsync/target/fields", {"target": "contacts"}).json()["data"]
    assert [(f["id"], f["supports_identity"]) for f in fields["fields"]] == [("email", True), ("name", False)]

    warehouse = post(api, "/api/connections", {"name": "Files", "type": "sqlite",
                                                "configuration": {"path": "tenant.sqlite3"}}).json()["data"]
    model = post(api, "/api/models", {"connection_id": warehouse["id"], "name": "People",
                                      "configuration": {"query": "SELECT email, 'Ada' AS name FROM people"}})
    assert model.status_code == 200, model.content
    model_id = model.json()["data"]["id"]
    sync = post(api, "/api/syncs", {
        "name": "People to the fake CRM", "mode": "updateOrCreate", "schedule": {"frequency": "manual"},
        "target": {"connection_id": crm["id"], "object": "contacts"},
        "identity": {"source": {"model_id": model_id, "field": "email"}, "target": "email", "function": "Equality"},
        "fields": [{"source": {"model_id": model_id, "field": "name"}, "target": "name"}],
    })
    assert sync.status_code == 200, sync.content
    sync_id = sync.json()["data"]["id"]

    started = post(api, f"/api/syncs/{sync_id}/executions", {})
    assert started.status_code == 200, started.content
    executions = api.get(f"/api/syncs/{sync_id}/executions").json()["data"]
    assert executions[0]["status"] == "completed", executions[0]
    stored = fake_crm.sandbox.app.scope(EMULATION).find("contacts")
    assert [(c["email"], c["name"]) for c in stored] == [("ada@example.com", "Ada")]
