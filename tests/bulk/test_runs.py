"""Bulk runs end to end: the sandbox's Salesforce into PostgreSQL, the sandbox's HubSpot
into Snowflake (fakesnow). Records change through the sandbox's inspection API
(/_sandbox/state/...) and the providers' own delete calls; the warehouse is read back."""

import time
import uuid

import httpx
import psycopg
import pytest

from console.bulk import runs
from console.bulk.models import BulkSchemaExecution, BulkSync
from console.engine.models import TERMINAL_STATUSES
from integrations.base import STRING
from integrations.warehouses.snowflake import SnowflakeSource
from tests.writers.conftest import Inspector

from .conftest import SNOWFLAKE


@pytest.fixture
def inspector(settings, sandbox):  # noqa: F811 - the sandbox fixture comes through conftest
    settings.SANDBOX_URL = sandbox.url
    return Inspector(sandbox.url)


def create(bulk_api, source, destination, schema, deleted_records="mark", **changes) -> dict:
    body = {"name": "Bulk copy", "source_connection_id": str(source.pk),
            "destination_connection_id": str(destination.pk),
            "destination_configuration": {"schema": schema, "deleted_records": deleted_records},
            "default_schedule": {"frequency": "manual"},
            **changes}
    response = bulk_api.post("/api/bulk/syncs", body)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def run(bulk_api, sync, **options) -> dict:
    """Start a run through the API and run it here (the worker's job) to its end."""
    response = bulk_api.post(f"/api/bulk/syncs/{sync['id']}/executions", options)
    assert response.status_code == 200, response.content
    runs.bulk_runs.run(response.json()["data"]["id"])
    return executed(bulk_api, sync, response.json()["data"]["id"])


def executed(bulk_api, sync, execution_id) -> dict:
    execution = bulk_api.get(f"/api/bulk/syncs/{sync['id']}/executions/{execution_id}").json()["data"]
    execution["by_schema"] = {s["schema"]: s for s in execution["schemas"]}
    return execution


def new_schema() -> str:
    return f"bulk_{uuid.uuid4().hex[:8]}"


# ---- Salesforce -> PostgreSQL ---------------------------------------------------------


class Postgres:
    def __init__(self, url, schema):
        self.url, self.schema = url, schema

    def rows(self, table, columns="id, email, _deleted") -> dict:
        """{id: (the other columns)} of a table."""
        with psycopg.connect(self.url) as conn:
            found = conn.execute(f'SELECT {columns} FROM "{self.schema}"."{table}"').fetchall()
        return {row[0]: row[1:] for row in found}

    def execute(self, sql):
        with psycopg.connect(self.url) as conn:
            conn.execute(sql)


def salesforce_api(sandbox, method, path, **kwargs):
    response = httpx.request(method, f"{sandbox.url}/salesforce/services/data/v62.0/{path}",
                             headers={"Authorization": "Bearer sandbox-api-key"}, **kwargs)
    response.raise_for_status()
    return response


def live_contacts(inspector) -> dict:
    return {d["Id"]: d for d in inspector.docs("salesforce", "Contact") if not d.get("IsDeleted")}


def change_contact(inspector, contact: dict, **values):
    """Replace a contact through the inspection API; its modstamp becomes now."""
    kept = {k: v for k, v in contact.items()
            if not k.startswith("_") and k not in ("SystemModstamp", "LastModifiedDate")}
    return inspector.seed("salesforce", "Contact", [{**kept, **values}])[0]


@pytest.fixture
def salesforce_sync(bulk_api, inspector, salesforce, postgres_destination, postgres_url):  # noqa: F811
    def make(**changes):
        schema = new_schema()
        sync = create(bulk_api, salesforce, postgres_destination, schema,
                      **{"schemas": ["Contact", "Account"], **changes})
        return sync, Postgres(postgres_url, schema)

    return make


@pytest.mark.parametrize("query_api", ["rest", "bulk"])
def test_salesforce_full_then_incremental_into_postgresql(bulk_api, salesforce_sync, inspector, sandbox, query_api):
    inspector.settings(salesforce_bulk_seconds=0.2)
    sync, warehouse = salesforce_sync(source_configuration={"query_api": query_api})
    assert sync["source_configuration"] == {"include_deleted": True, "query_api": query_api}
    contacts = live_contacts(inspector)
    accounts = {d["Id"]: d["Name"] for d in inspector.docs("salesforce", "Account")}

    first = run(bulk_api, sync)
    assert first["status"] == "completed", first
    assert first["by_schema"]["Contact"]["record_count"] == len(contacts) == 4
    assert first["record_count"] == len(contacts) + len(accounts)
    assert warehouse.rows("contact") == {i: (d["Email"], False) for i, d in contacts.items()}
    assert warehouse.rows("account", "id, name") == {i: (name,) for i, name in accounts.items()}
    cursor = BulkSync.objects.get(pk=sync["id"]).cursors["Contact"]
    assert cursor == max(d["SystemModstamp"] for d in contacts.values())
    untouched_before = warehouse.rows("contact", "id, _updated_at")

    ada, grace, alan, _ = sorted(contacts.values(), key=lambda d: d["Email"])
    time.sleep(0.01)  # modstamps are in milliseconds
    change_contact(inspector, ada, Email="ada@analytical.example")
    added = inspector.seed("salesforce", "Contact", [{"FirstName": "Joan", "LastName": "Clarke",
                                                      "Email": "joan@bletchley.example"}])[0]
    salesforce_api(sandbox, "DELETE", f"sobjects/Contact/{alan['Id']}")

    second = run(bulk_api, sync)
    assert second["status"] == "completed", second
    assert second["by_schema"]["Contact"]["record_count"] == 3  # changed, added, deleted: nothing else
    assert second["by_schema"]["Account"]["record_count"] == 0
    rows = warehouse.rows("contact")
    assert rows[ada["Id"]] == ("ada@analytical.example", False)
    assert rows[added["Id"]] == ("joan@bletchley.example", False)
    assert rows[alan["Id"]] == (alan["Email"], True)  # marked, as configured by default
    assert len(rows) == 5
    stamps = warehouse.rows("contact", "id, _updated_at")
    assert stamps[grace["Id"]] == untouched_before[grace["Id"]]

    third = run(bulk_api, sync)
    assert third["record_count"] == 0


def test_salesforce_deleted_records_removed_when_configured(bulk_api, salesforce_sync, inspector, sandbox):
    sync, warehouse = salesforce_sync(deleted_records="remove")
    run(bulk_api, sync)
    gone = sorted(live_contacts(inspector))[0]
    salesforce_api(sandbox, "DELETE", f"sobjects/Contact/{gone}")

    after = run(bulk_api, sync)
    assert BulkSchemaExecution.objects.get(execution_id=after["id"], schema="Contact").deleted_count == 1
    rows = warehouse.rows("contact")
    assert gone not in rows and set(rows) == set(live_contacts(inspector))


def test_a_full_resync_on_demand_copies_everything_again(bulk_api, salesforce_sync, inspector):
    sync, warehouse = salesforce_sync()
    run(bulk_api, sync)
    contacts = live_contacts(inspector)
    lost = sorted(contacts)[0]
    warehouse.execute(f"DELETE FROM \"{warehouse.schema}\".contact WHERE id = '{lost}'")

    incremental = run(bulk_api, sync)
    assert incremental["record_count"] == 0 and lost not in warehouse.rows("contact")

    resync = run(bulk_api, sync, resync_mode="resync", schemas=["Contact"])
    assert resync["status"] == "completed" and resync["is_resync"] and resync["is_partial"]
    assert set(resync["by_schema"]) == {"Contact"}
    assert resync["record_count"] == len(contacts)
    assert set(warehouse.rows("contact")) == set(contacts)

    full = run(bulk_api, sync, fetch_mode="full")
    assert full["record_count"] == len(contacts) + len(inspector.docs("salesforce", "Account"))


def test_without_deleted_records_the_source_reads_query_not_query_all(bulk_api, salesforce_sync, inspector, sandbox):
    sync, warehouse = salesforce_sync(source_configuration={"include_deleted": False})
    gone = sorted(live_contacts(inspector))[0]
    salesforce_api(sandbox, "DELETE", f"sobjects/Contact/{gone}")
    run(bulk_api, sync)
    assert gone not in warehouse.rows("contact")
    assert set(warehouse.rows("contact")) == set(live_contacts(inspector))


# ---- HubSpot -> Snowflake -------------------------------------------------------------------


class Snowflake:
    def __init__(self, endpoint, schema):
        self.source = SnowflakeSource({**SNOWFLAKE, "password": "secret"}, endpoint=endpoint)
        self.schema = schema.upper()

    def rows(self, table, columns="ID, EMAIL, _DELETED") -> dict:
        with self.source.connection().cursor() as cur:
            cur.execute(f"SELECT {columns} FROM {self.schema}.{table}")
            return {row[0]: tuple(row[1:]) for row in cur.fetchall()}

    def close(self):
        self.source.close()


def hubspot_contacts(inspector) -> dict:
    return {str(d["id"]): d for d in inspector.docs("hubspot", "contacts")}


@pytest.fixture
def hubspot_sync(bulk_api, inspector, hubspot, snowflake_destination, fakesnow_endpoint):  # noqa: F811
    opened = []

    def make(**changes):
        schema = new_schema()
        sync = create(bulk_api, hubspot, snowflake_destination, schema,
                      **{"schemas": ["contacts", "companies"], **changes})
        opened.append(Snowflake(fakesnow_endpoint, schema))
        return sync, opened[-1]

    yield make
    for warehouse in opened:
        warehouse.close()


def test_hubspot_full_then_incremental_into_snowflake(bulk_api, hubspot_sync, inspector, sandbox):
    sync, warehouse = hubspot_sync()
    contacts = hubspot_contacts(inspector)
    companies = {str(d["id"]): d["properties"]["name"] for d in inspector.docs("hubspot", "companies")}

    first = run(bulk_api, sync)
    assert first["status"] == "completed", first
    assert first["by_schema"]["contacts"]["output_name"] == "CONTACTS"
    assert first["record_count"] == len(contacts) + len(companies)
    assert warehouse.rows("CONTACTS") == {i: (d["properties"]["email"], False) for i, d in contacts.items()}
    assert warehouse.rows("COMPANIES", "ID, NAME") == {i: (name,) for i, name in companies.items()}

    ada, grace = sorted(contacts.values(), key=lambda d: d["properties"]["email"])
    time.sleep(0.01)
    changed = {k: v for k, v in ada["properties"].items() if k != "lastmodifieddate"}
    inspector.seed("hubspot", "contacts", [{"id": ada["id"], "createdAt": ada["createdAt"],
                                            "properties": {**changed, "firstname": "Augusta"}}])
    added = inspector.seed("hubspot", "contacts", [{"properties": {"email": "joan@bletchley.example",
                                                                   "firstname": "Joan"}}])[0]
    httpx.delete(f"{sandbox.url}/hubspot/crm/v3/objects/contacts/{grace['id']}",
                 headers={"Authorization": "Bearer sandbox-api-key"}).raise_for_status()

    second = run(bulk_api, sync)
    assert second["status"] == "completed", second
    assert second["by_schema"]["contacts"]["record_count"] == 3
    assert second["by_schema"]["companies"]["record_count"] == 0
    rows = warehouse.rows("CONTACTS", "ID, FIRSTNAME, _DELETED")
    assert rows == {str(ada["id"]): ("Augusta", False), str(added["id"]): ("Joan", False),
                    str(grace["id"]): (grace["properties"]["firstname"], True)}


def test_hubspot_without_the_search_api_reads_the_list_and_keeps_what_changed(
        bulk_api, hubspot_sync, inspector, hubspot):
    hubspot.configuration = {**hubspot.configuration, "use_search_api": False}
    hubspot.save()
    sync, warehouse = hubspot_sync(schemas=["contacts"])
    run(bulk_api, sync)
    ada = sorted(hubspot_contacts(inspector).values(), key=lambda d: d["properties"]["email"])[0]
    time.sleep(0.01)
    changed = {k: v for k, v in ada["properties"].items() if k != "lastmodifieddate"}
    inspector.seed("hubspot", "contacts", [{"id": ada["id"], "properties": {**changed, "lastname": "King"}}])
    second = run(bulk_api, sync)
    assert second["record_count"] == 1
    assert warehouse.rows("CONTACTS", "ID, LASTNAME")[str(ada["id"])] == ("King",)


# ---- new fields, failures, tests: a source in memory into PostgreSQL -----------------------------


def stamp(day):
    return f"2026-01-{day:02d}T00:00:00Z"


@pytest.fixture
def fake_sync(bulk_api, fake_source, salesforce, postgres_destination, postgres_url):  # noqa: F811
    fake_source.records["Contact"] = [
        {"Id": f"c{n}", "Email": f"p{n}@acme.example", "LastName": f"P{n}", "SystemModstamp": stamp(n)}
        for n in range(1, 4)]
    schema = new_schema()
    return create(bulk_api, salesforce, postgres_destination, schema, schemas=["Contact"]), \
        Postgres(postgres_url, schema)


def test_a_new_source_field_adds_a_column_and_fills_it_for_every_row(bulk_api, fake_sync, fake_source):
    sync, warehouse = fake_sync
    run(bulk_api, sync)
    fake_source.fields_of["Contact"].append(("Tier__c", STRING))
    for n, record in enumerate(fake_source.records["Contact"], 1):
        record["Tier__c"] = f"tier {n}"

    after = run(bulk_api, sync)
    assert after["status"] == "completed"
    assert warehouse.rows("contact", "id, tier__c") == {"c1": ("tier 1",), "c2": ("tier 2",), "c3": ("tier 3",)}
    assert fake_source.reads[-1] == ("Contact", None), "a new column is filled by reading every record"


def test_a_failing_object_fails_the_run_and_leaves_its_cursor(bulk_api, fake_sync, fake_source, monkeypatch):
    sync, warehouse = fake_sync
    run(bulk_api, sync)
    fake_source.broken = True
    failed = run(bulk_api, sync)
    assert failed["status"] == "failed" and "connection refused" in failed["status_message"]
    assert BulkSync.objects.get(pk=sync["id"]).cursors == {"Contact": stamp(3)}


def test_a_test_run_writes_nothing(bulk_api, fake_sync, fake_source):
    sync, warehouse = fake_sync
    tested = run(bulk_api, sync, test=True)
    assert tested["status"] == "completed" and tested["is_test"] and tested["record_count"] == 0
    with pytest.raises(psycopg.errors.UndefinedTable):
        warehouse.rows("contact")


# ---- through the real Celery worker -------------------------------------------------------------


@pytest.mark.worker
def test_a_run_through_the_celery_worker(sandbox, postgres_url, celery_worker_process, transactional_db, bulk_api,
                                         inspector, salesforce, postgres_destination):  # noqa: F811
    # the servers come first: the worker may reach those started before it (EGRESS_ALLOW)
    # the worker does not know SANDBOX_URL: the connection names its instance, as after an OAuth consent
    salesforce.secrets = {**salesforce.secrets, "oauth_instance_url": f"{sandbox.url}/salesforce"}
    salesforce.save()
    schema = new_schema()
    sync = create(bulk_api, salesforce, postgres_destination, schema, schemas=["Contact"])
    started = bulk_api.post(f"/api/bulk/syncs/{sync['id']}/executions").json()["data"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        execution = executed(bulk_api, sync, started["id"])
        if execution["status"] in TERMINAL_STATUSES:
            break
        time.sleep(0.2)
    assert execution["status"] == "completed", execution
    contacts = live_contacts(inspector)
    assert Postgres(postgres_url, schema).rows("contact") == {i: (d["Email"], False) for i, d in contacts.items()}


# ---- the other directions of seed 002's examples ---------------------------------------------------


def test_salesforce_into_snowflake(bulk_api, inspector, salesforce, snowflake_destination, fakesnow_endpoint):  # noqa: F811
    schema = new_schema()
    sync = create(bulk_api, salesforce, snowflake_destination, schema, schemas=["Contact"])
    first = run(bulk_api, sync)
    assert first["status"] == "completed", first
    warehouse = Snowflake(fakesnow_endpoint, schema)
    try:
        assert warehouse.rows("CONTACT") == {i: (d["Email"], False) for i, d in live_contacts(inspector).items()}
    finally:
        warehouse.close()


def test_hubspot_into_postgresql(bulk_api, inspector, hubspot, postgres_destination, postgres_url):  # noqa: F811
    schema = new_schema()
    sync = create(bulk_api, hubspot, postgres_destination, schema, schemas=["contacts"])
    first = run(bulk_api, sync)
    assert first["status"] == "completed", first
    assert Postgres(postgres_url, schema).rows("contacts") == {
        i: (d["properties"]["email"], False) for i, d in hubspot_contacts(inspector).items()}
