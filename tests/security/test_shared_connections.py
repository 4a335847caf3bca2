"""Shared connections across organizations: a child organization runs a real sync over two
connections a partner shared with it, and never sees their secrets; nobody else can read,
change or use them."""

import httpx
import pytest
from django.test import Client

from console.accounts.services import create_api_key, sign_up
from console.connections.models import Connection
from tests.e2e.conftest import SNOWFLAKE
from tests.e2e.test_seed_000 import CADENCE, SEED_000_QUERY, people
from tests.security.conftest import run_sync

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WAREHOUSE_PASSWORD = "lent-snowflake-password-3f9d"
SALESLOFT_KEY = "sandbox-api-key"


def cadence_sync(model_id, connection_id) -> dict:
    def source(field):
        return {"field": field, "model_id": model_id}

    return {"name": "Users to a cadence", "mode": "updateOrCreate", "schedule": {"frequency": "manual"},
            "identity": {"source": source("EMAIL"), "target": "Email", "function": "equality"},
            "fields": [{"source": source("FIRST_NAME"), "target": "FirstName"},
                       {"source": source("LAST_NAME"), "target": "LastName"}],
            "target": {"connection_id": connection_id, "object": f"cadence:{CADENCE}"}}


def tenant(live_server, email, name):
    user = sign_up(email, "correct-horse-battery", name)
    organization = user.memberships.get().organization
    _, raw = create_api_key(organization, name, created_by=user)
    client = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {raw}"}, timeout=30.0)
    return user, organization, client


@pytest.fixture
def lent(e2e, organization):
    """Acme's Snowflake and Salesloft connections, with secrets of their own."""
    return {
        "snowflake": Connection.objects.create(organization=organization, name="Acme Snowflake", type="snowflake",
                                               configuration=SNOWFLAKE, secrets={"password": WAREHOUSE_PASSWORD}),
        "salesloft": Connection.objects.create(organization=organization, name="Acme Salesloft", type="salesloft",
                                               configuration={"auth_method": "api_key"},
                                               secrets={"api_key": SALESLOFT_KEY}),
    }


@pytest.fixture
def shared(live_server, partner_key, organization, lent):
    """Globex (the child) holding copies of Acme's connections; Initech, a third organization."""
    child_user, child, child_api = tenant(live_server, "child@example.com", "Globex")
    _, _, third_api = tenant(live_server, "third@example.com", "Initech")
    copies = {}
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {partner_key}"}) as partner:
        for kind, connection in lent.items():
            made = partner.post(f"/api/organizations/{organization.pk}/connections/{connection.pk}/shared",
                                json={"child_organization_id": str(child.pk)})
            assert made.status_code == 200, made.text
            copies[kind] = made.json()["data"]["id"]
    yield {"child_user": child_user, "child_api": child_api, "third_api": third_api, "copies": copies}
    child_api.close()
    third_api.close()


def test_the_child_syncs_through_shared_connections_and_never_sees_their_secrets(
        e2e, e2e_worker, warehouse, shared, lent, caplog):
    child_api, copies = shared["child_api"], shared["copies"]
    log_start = len(e2e_worker.log())
    table = warehouse.copy("users", 5)
    answers = [child_api.get("/api/connections")]
    answers += [child_api.get(f"/api/connections/{copy}") for copy in copies.values()]
    answers.append(child_api.post("/api/models", json={
        "name": "Active users", "connection_id": copies["snowflake"],
        "configuration": {"query": SEED_000_QUERY.format(table=table)}}))
    assert answers[-1].status_code == 200, answers[-1].text
    model = answers[-1].json()["data"]
    assert {f["name"] for f in model["fields"]} >= {"EMAIL", "FIRST_NAME", "LAST_NAME"}

    answers.append(child_api.post("/api/syncs", json=cadence_sync(model["id"], copies["salesloft"])))
    assert answers[-1].status_code == 200, answers[-1].text
    sync_id = answers[-1].json()["data"]["id"]
    run = run_sync(child_api, sync_id)
    assert (run["status"], run["counts"]["inserted"], run["counts"]["error"]) == ("completed", 5, 0), run
    emails = {row[0].lower() for row in warehouse.execute(f"SELECT email FROM {table}")}
    assert emails <= set(people(e2e))
    answers.append(child_api.get(f"/api/syncs/{sync_id}/executions/{run['id']}"))
    answers.append(child_api.get(f"/api/syncs/{sync_id}/executions/{run['id']}/logs"))

    console = Client()
    console.force_login(shared["child_user"])
    pages = [console.get("/connections")] + [console.get(f"/connections/{copy}") for copy in copies.values()]
    pages += [console.get(f"/models/{model['id']}"), console.get(f"/syncs/{sync_id}"),
              console.get(f"/syncs/{sync_id}/runs")]
    assert [page.status_code for page in pages] == [200] * len(pages)
    assert b"Shared with this organization by <strong>Acme</strong>" in pages[1].content

    seen = [a.text for a in answers] + [p.content.decode() for p in pages]
    seen += [e2e_worker.log()[log_start:], caplog.text]
    for secret in (WAREHOUSE_PASSWORD, SALESLOFT_KEY):
        assert not [text[:200] for text in seen if secret in text], secret


def test_only_the_child_uses_a_shared_connection_and_nobody_changes_it(shared, lent, organization, trap):
    child_api, third_api, copies = shared["child_api"], shared["third_api"], shared["copies"]
    warehouse_copy = copies["snowflake"]

    for client, connection_id in ((child_api, lent["snowflake"].pk), (third_api, warehouse_copy),
                                  (third_api, lent["snowflake"].pk)):
        assert client.get(f"/api/connections/{connection_id}").status_code == 404
        used = client.post("/api/models", json={"name": "x", "connection_id": str(connection_id),
                                                "configuration": {"query": "SELECT 1"}})
        assert used.status_code == 404 and used.json()["metadata"]["errors"][0]["field"] == "connection_id"
        changed = client.put(f"/api/connections/{connection_id}", json={"name": "x", "configuration": {}})
        assert changed.status_code == 404
        assert client.delete(f"/api/connections/{connection_id}").status_code == 404

    # the child may use its copy, but not point it, with the stored password, somewhere else
    pointed = child_api.put(f"/api/connections/{warehouse_copy}", json={
        "name": "Acme Snowflake", "configuration": {**SNOWFLAKE, "account": f"127.0.0.1:{trap.port}"}})
    assert pointed.status_code == 403 and pointed.json()["key"] == "shared_connection"
    probed = child_api.post("/api/connections/test", json={
        "type": "snowflake", "connection_id": warehouse_copy,
        "configuration": {**SNOWFLAKE, "account": f"127.0.0.1:{trap.port}"}})
    assert probed.status_code == 403 and probed.json()["key"] == "shared_connection"
    assert trap.connections == 0
    lent["snowflake"].refresh_from_db()
    assert lent["snowflake"].configuration == SNOWFLAKE
    assert lent["snowflake"].secrets == {"password": WAREHOUSE_PASSWORD}
