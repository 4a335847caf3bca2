"""Seed 004's Salesloft destinations end to end, through the API, a real worker and the sandbox:
activities, account delete, redaction, and people upserts through bulk jobs (with a worker
killed while its job runs)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from console.engine import services
from console.syncs.models import Sync

from .conftest import QUEUE, Worker, clear_requests, requests_since_clear

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BIG_BATCHES = {"ENGINE_SOURCE_BATCH_SIZE": "1000"}  # the e2e worker reads 5 rows at a time: too few for a bulk job


def source(model, field):
    return {"field": field, "model_id": str(model.pk)}


def definition(model, connection, target, mode, identity, fields=(), configuration=None, name="Seed 004 sync"):
    target_spec = {"connection_id": str(connection.pk), "object": target}
    if configuration is not None:
        target_spec["configuration"] = configuration
    return {
        "name": name, "mode": mode, "schedule": {"frequency": "manual"}, "target": target_spec,
        "identity": {"source": source(model, identity[0]), "target": identity[1], "function": "equality"},
        "fields": [{"source": source(model, column), "target": target_field} for column, target_field in fields],
    }


def table_of(warehouse, columns: tuple, rows: list[tuple]) -> str:
    name = f"seed004_{int(time.time() * 1000)}"
    warehouse.execute(f"CREATE TABLE {name} ({', '.join(f'{c} VARCHAR' for c in columns)})")
    values = ", ".join("(" + ", ".join(f"'{v}'" for v in row) + ")" for row in rows)
    warehouse.execute(f"INSERT INTO {name} VALUES {values}")
    return name


@pytest.fixture
def queue_worker(monkeypatch, worker_env, tmp_path):
    """Workers of this test's own queue, reading the model 1,000 rows at a time."""
    queue = f"{QUEUE}-seed004"
    monkeypatch.setenv("ENGINE_QUEUE", queue)
    started = []

    def start():
        worker = Worker({**worker_env, **BIG_BATCHES, "ENGINE_QUEUE": queue}, tmp_path / "worker.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def test_calls_emails_and_notes_are_logged_and_visible_in_the_sandbox(
        e2e, warehouse, connection_of, model_of, public_api):
    people = e2e.seed("salesloft", "people", [{"email_address": f"act{n}@example.com"} for n in range(2)])
    table = table_of(warehouse, ("email", "note", "subject"), [
        ("act0@example.com", "First talk", "Hello"), ("act1@example.com", "Second talk", "Again"),
        ("stranger@example.com", "Nobody", "Hm")])
    model = model_of(connection_of("snowflake"), f"SELECT email, note, subject FROM {table}",
                     ["email", "note", "subject"])
    salesloft = connection_of("salesloft")
    collections = {"note": "notes", "call": "calls", "email": "emails"}  # notes first: a call's note is one too
    for kind, collection in collections.items():
        fields = [("note", "Note")] + ([("subject", "Subject")] if kind != "call" else [])
        sync = public_api.create_sync(definition(model, salesloft, f"activity:{kind}", "create",
                                                 ("email", "PersonEmail"), fields, name=f"Log {kind}s"))
        run = public_api.run(sync["id"])
        assert run["status"] == "completed", run
        assert (run["counts"]["inserted"], run["counts"]["errored"]) == (2, 1)
        [error] = public_api.record_errors(sync["id"], run["id"])
        assert error["identity"] == "stranger@example.com"
        assert "No Salesloft person has the email stranger@example.com" in error["message"]
        logged = e2e.docs("salesloft", collection)
        assert sorted(d["person_id"] for d in logged) == sorted(p["id"] for p in people), kind
        again = public_api.run(sync["id"])  # an activity is logged once
        assert again["counts"]["inserted"] == 0 and len(e2e.docs("salesloft", collection)) == 2
    notes = [n["content"] for n in e2e.docs("salesloft", "notes") if n.get("associated_type") == "person"]
    assert sorted(notes) == ["First talk", "Second talk"]
    assert sorted(m["subject"] for m in e2e.docs("salesloft", "emails")) == ["Again", "Hello"]


def test_a_wrong_person_id_is_a_record_error_in_salesloft_s_words(e2e, warehouse, connection_of, model_of,
                                                                  public_api):
    [person] = e2e.seed("salesloft", "people", [{"email_address": "id@example.com"}])
    table = table_of(warehouse, ("person_id", "note"), [(str(person["id"]), "Right"), ("987654", "Wrong")])
    model = model_of(connection_of("snowflake"), f"SELECT person_id, note FROM {table}", ["person_id", "note"])
    sync = public_api.create_sync(definition(model, connection_of("salesloft"), "activity:call", "create",
                                             ("person_id", "PersonId"), [("note", "Note")]))
    run = public_api.run(sync["id"])
    assert (run["counts"]["inserted"], run["counts"]["errored"]) == (1, 1)
    [error] = public_api.record_errors(sync["id"], run["id"])
    assert (error["identity"], error["message"]) == ("987654", "Not Found")
    assert [c["person_id"] for c in e2e.docs("salesloft", "calls")] == [person["id"]]


def test_accounts_deleted_in_remove_mode_and_the_wipe_guard_holds_the_rest(
        e2e, warehouse, connection_of, model_of, public_api, queue_worker):
    queue_worker()  # the guard judges each batch: here the model's rows are one
    e2e.seed("salesloft", "accounts", [{"name": f"Co {n}", "domain": f"co{n}.example"} for n in range(12)])
    snowflake, salesloft = connection_of("snowflake"), connection_of("salesloft")
    few = table_of(warehouse, ("domain",), [("co0.example",), ("co1.example",)])
    model = model_of(snowflake, f"SELECT domain FROM {few}", ["domain"])
    sync = public_api.create_sync(definition(model, salesloft, "accounts", "remove", ("domain", "Domain")))
    run = public_api.run(sync["id"])
    assert run["status"] == "completed", run
    assert run["counts"]["removed"] == 2
    assert {a["domain"] for a in e2e.docs("salesloft", "accounts")} == {f"co{n}.example" for n in range(2, 12)}

    most = table_of(warehouse, ("domain",), [(f"co{n}.example",) for n in range(2, 10)])
    wide = public_api.create_sync(definition(model_of(snowflake, f"SELECT domain FROM {most}", ["domain"]),
                                             salesloft, "accounts", "remove", ("domain", "Domain"), name="Too wide"))
    guarded = public_api.run(wide["id"])
    assert guarded["counts"]["removed"] == 0 and guarded["counts"]["errored"] == 8
    [error, *_] = public_api.record_errors(wide["id"], guarded["id"])
    assert "8 of the team's 10 Salesloft accounts" in error["message"]
    assert len(e2e.docs("salesloft", "accounts")) == 10
    allowed = public_api.run(wide["id"], allow_mass_removal=True)
    assert allowed["counts"]["removed"] == 8
    assert {a["domain"] for a in e2e.docs("salesloft", "accounts")} == {"co10.example", "co11.example"}


def test_a_redaction_sync_needs_confirmation_then_redacts_and_is_audited(
        e2e, warehouse, connection_of, model_of, public_api, organization):
    [acme, other] = e2e.seed("salesloft", "accounts", [{"name": "Acme", "domain": "acme.example", "phone": "555"},
                                                       {"name": "Other", "domain": "other.example"}])
    [ada] = e2e.seed("salesloft", "people", [{"email_address": "ada@acme.example", "first_name": "Ada",
                                              "account_id": acme["id"]}])
    table = table_of(warehouse, ("domain",), [("acme.example",)])
    model = model_of(connection_of("snowflake"), f"SELECT domain FROM {table}", ["domain"])
    salesloft = connection_of("salesloft")
    body = definition(model, salesloft, "account_redaction", "remove", ("domain", "Domain"), name="GDPR erasure")

    refused = public_api.post("/api/syncs", body)
    assert refused.status_code == 400
    assert refused.json()["metadata"]["errors"][0]["field"] == "target.configuration.confirm_redaction"
    unconfirmed = Sync.objects.create(  # one saved before confirmations existed: its run refuses to send
        organization=organization, name="Unconfirmed", mode="remove", model=model, target_connection=salesloft,
        target_object="account_redaction", identity=body["identity"], fields=[], target_configuration={})
    failed = public_api.run(str(unconfirmed.pk))
    assert failed["status"] == "failed" and "not confirmed" in " ".join(failed["errors"]), failed
    assert e2e.docs("salesloft", "redactions") == []

    body["target"]["configuration"] = {"confirm_redaction": True}
    sync = public_api.create_sync(body)
    assert sync["target"]["configuration"] == {"confirm_redaction": "REDACT"}
    run = public_api.run(sync["id"])
    assert run["status"] == "completed" and run["counts"]["removed"] == 1, run
    accounts = {a["id"]: a for a in e2e.docs("salesloft", "accounts")}
    assert (accounts[acme["id"]]["name"], accounts[acme["id"]]["domain"]) == ("Redacted", None)
    assert accounts[other["id"]]["domain"] == "other.example"
    person = {p["id"]: p for p in e2e.docs("salesloft", "people")}[ada["id"]]
    assert (person["email_address"], person["first_name"]) == (None, None)
    [request] = e2e.docs("salesloft", "redactions")
    assert request["account_id"] == acme["id"]
    events = public_api.client.get("/api/audit_events", {"action": "redaction_requested"}).json()["data"]
    assert [(e["object_type"], e["object_id"], e["actor"]) for e in events] == [
        ("salesloft_account", str(acme["id"]), "Sync GDPR erasure")]

    assert public_api.post(f"/api/syncs/{sync['id']}/activate", {"active": False}).status_code == 200
    again = public_api.post(f"/api/syncs/{sync['id']}/activate", {"active": True})
    assert again.status_code == 400 and again.json()["metadata"]["errors"][0]["field"] == "confirm_redaction"
    confirmed = public_api.post(f"/api/syncs/{sync['id']}/activate", {"active": True, "confirm_redaction": True})
    assert confirmed.status_code == 200 and confirmed.json()["data"]["active"] is True


def bulk_people_table(warehouse, rows: int, bad: int = 0) -> str:
    """`rows` people with distinct emails (the first `bad` of them not emails at all)."""
    name = f"seed004_bulk_{int(time.time() * 1000)}"
    warehouse.execute(
        f"CREATE TABLE {name} AS SELECT CASE WHEN n <= {bad} THEN 'not an email ' || n "
        f"ELSE 'bulk' || n || '@example.com' END AS email, 'First' || n AS first_name "
        f"FROM (SELECT ROW_NUMBER() OVER (ORDER BY a.email, b.email, c.email) AS n "
        f"FROM users a, users b, users c) WHERE n <= {rows}")
    return name


def people_sync(public_api, warehouse_table, connection_of, model_of):
    model = model_of(connection_of("snowflake"), f"SELECT email, first_name FROM {warehouse_table} ORDER BY email",
                     ["email", "first_name"])
    return public_api.create_sync(definition(model, connection_of("salesloft"), "people", "updateOrCreate",
                                             ("email", "Email"), [("first_name", "FirstName")]))


def test_5000_people_upserted_through_bulk_jobs_with_rejected_rows_reported_per_record(
        e2e, warehouse, connection_of, model_of, public_api, queue_worker):
    e2e.settings(salesloft_bulk_seconds=0.5)
    worker = queue_worker()
    table = bulk_people_table(warehouse, 5000, bad=3)
    sync = people_sync(public_api, table, connection_of, model_of)
    clear_requests(e2e)
    run = public_api.wait(sync["id"], public_api.start(sync["id"]), timeout=240, worker=worker)
    assert run["status"] == "completed", run
    assert (run["counts"]["inserted"], run["counts"]["errored"]) == (4997, 3)
    errors = public_api.record_errors(sync["id"], run["id"])
    assert sorted(e["identity"] for e in errors) == [f"not an email {n}" for n in (1, 2, 3)]
    assert {e["message"] for e in errors} == {"email_address is invalid"}
    rules = requests_since_clear(e2e)["rules"]
    assert rules.get("POST /salesloft/v2/person_upserts.json", 0) == 0
    assert rules["POST /salesloft/v2/bulk_jobs"] == 5  # 1,000 rows a batch
    jobs = e2e.docs("salesloft", "bulk_jobs")
    assert sorted(j["total"] for j in jobs) == [1000] * 5 and sum(j["errors"] for j in jobs) == 3
    emails = [p["email_address"] for p in e2e.docs("salesloft", "people")]
    assert len(emails) == len(set(emails)) == 4997


def test_a_worker_killed_while_its_bulk_job_runs_loses_and_duplicates_nobody(
        e2e, warehouse, connection_of, model_of, public_api, queue_worker):
    e2e.settings(salesloft_allow_duplicate_emails=True, salesloft_bulk_seconds=600)  # the job runs until told
    table = bulk_people_table(warehouse, 300)
    sync = people_sync(public_api, table, connection_of, model_of)
    first_worker = queue_worker()
    execution_id = public_api.start(sync["id"])
    deadline = time.monotonic() + 60
    while not [j for j in e2e.docs("salesloft", "bulk_jobs") if j["state"] == "executing"]:
        assert time.monotonic() < deadline, first_worker.log()[-3000:]
        time.sleep(0.2)
    first_worker.kill()  # while it polls the job
    assert public_api.execution(sync["id"], execution_id)["status"] == "running"

    e2e.settings(salesloft_bulk_seconds=0)  # the job finishes while no worker looks
    assert services.sync_runs.sweep(now=timezone.now() + timedelta(seconds=5))["requeued"] == 1
    second_worker = queue_worker()
    finished = public_api.wait(sync["id"], execution_id, worker=second_worker, timeout=120)
    assert finished["status"] == "completed" and finished["attempt"] == 2, finished
    assert (finished["counts"]["inserted"], finished["counts"]["errored"]) == (300, 0)
    assert len(e2e.docs("salesloft", "bulk_jobs")) == 1  # the resumed run read the first attempt's job
    emails = [p["email_address"] for p in e2e.docs("salesloft", "people")]
    assert len(emails) == len(set(emails)) == 300
