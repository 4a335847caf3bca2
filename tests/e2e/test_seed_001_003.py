"""Seeds 001 (Gong Engage flow) and 003 (LinkedIn audiences) end to end."""

import hashlib

import pytest

from console.syncs.models import Sync

from .conftest import clear_requests, requests_since_clear

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SEED_001_QUERY = "SELECT contact_id FROM {table} WHERE subscription_plan = 'gold'"
FLOW = "1695493301223590792"
ACCOUNT = "512630692::urn:li:organization:28818517"
AUDIENCE = f"{ACCOUNT}~user_audience.10700"


def sha(email):
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def test_seed_001_gong_flow(e2e, connection_of, model_of, warehouse, public_api):
    table = warehouse.copy("salesforce_contacts")
    gold = sorted(r[0] for r in warehouse.execute(SEED_001_QUERY.format(table=table)))
    known = {p["id"] for p in e2e.docs("gong", "crm_prospects")}
    unknown = [i for i in gold if i not in known]
    assert unknown and len(unknown) < len(gold), "the demo data has gold contacts Gong knows and some it does not"
    model = model_of(connection_of("snowflake"), SEED_001_QUERY.format(table=table), ["contact_id"])
    sync = public_api.create_sync({
        "name": "Snowflake to Gong Engage Sync", "mode": "updateOrCreate",
        "identity": {"source": {"field": "contact_id", "model_id": str(model.pk)}, "target": "Id",
                     "function": "equality"},
        "schedule": {"frequency": "manual"},
        "target": {"connection_id": str(connection_of("gong").pk), "object": FLOW},
    })

    first = public_api.run(sync["id"])
    assert first["status"] == "completed", first
    assert first["counts"]["inserted"] == len(gold) - len(unknown)
    assert first["counts"]["errored"] == len(unknown)
    errors = {e["identity"]: e["message"] for e in public_api.record_errors(sync["id"], first["id"])}
    assert errors == {i: f"Invalid crmId {i}" for i in unknown}  # Gong's own words

    def in_flow():
        return sorted(i["crmProspectId"] for i in e2e.docs("gong", "flow_instances")
                      if i["flowId"] == FLOW and i["_active"])

    assert in_flow() == sorted(i for i in gold if i in known)

    # The CRM learns the missing contacts; the next run sends only them.
    e2e.seed("gong", "crm_prospects", [{"id": i, "type": "Contact"} for i in unknown])
    clear_requests(e2e)
    second = public_api.run(sync["id"])
    assert (second["counts"]["inserted"], second["counts"]["unchanged"], second["counts"]["errored"]) == (
        len(unknown), len(gold) - len(unknown), 0)
    assert in_flow() == gold
    rules = requests_since_clear(e2e)["rules"]
    assert {rule: n for rule, n in rules.items() if rule.startswith("POST")} == {
        "POST /gong/v2/flows/prospects/assign": 1}


def audience_members(inspector, segment_id):
    return sorted(m["key"] for m in inspector.docs("linkedin", "segment_members") if m["segment"] == int(segment_id))


def seed_003_sync(model, connection, target):
    def source(field):
        return {"field": field, "model_id": str(model.pk)}

    return {
        "name": "Snowflake to LinkedIn AdsSync", "mode": "create",
        "identity": {"source": source("email"), "target": "Email", "function": "equality"},
        "fields": [{"source": source("first_name"), "target": "FirstName"},
                   {"source": source("last_name"), "target": "LastName"}],
        "schedule": {"frequency": "manual"},
        "target": {"connection_id": str(connection.pk), **target},
    }


@pytest.fixture
def seed_003_model(connection_of, model_of, warehouse):
    table = warehouse.copy("users", 10)
    emails = [r[0] for r in warehouse.execute(f"SELECT email FROM {table}")]
    model = model_of(connection_of("snowflake"), f"SELECT first_name, last_name, email FROM {table}",
                     ["first_name", "last_name", "email"])
    return model, emails


def test_seed_003_existing_audience(e2e, connection_of, seed_003_model, public_api):
    model, emails = seed_003_model
    sync = public_api.create_sync(seed_003_sync(model, connection_of("linkedinads"), {"object": AUDIENCE}))
    run = public_api.run(sync["id"])
    assert run["status"] == "completed", run
    assert run["counts"]["inserted"] == 10
    assert audience_members(e2e, 10700) == sorted(f"SHA256_EMAIL:{sha(e)}" for e in emails)

    clear_requests(e2e)
    again = public_api.run(sync["id"])
    assert again["counts"]["unchanged"] == 10 and again["counts"]["upserts"] == 0
    assert requests_since_clear(e2e)["total"] == 0


def test_seed_003_created_audience(e2e, connection_of, seed_003_model, public_api):
    model, emails = seed_003_model
    create = {"name": "New audience", "type": "user_audience", "account": ACCOUNT}
    sync = public_api.create_sync(seed_003_sync(model, connection_of("linkedinads"), {"create": create}))
    run = public_api.run(sync["id"])
    assert run["status"] == "completed", run
    [segment] = [s for s in e2e.docs("linkedin", "segments") if s["name"] == "New audience"]
    assert segment["type"] == "USER" and segment["account"] == "urn:li:sponsoredAccount:512630692"
    assert Sync.objects.get(pk=sync["id"]).target_object == f"{ACCOUNT}~user_audience.{segment['id']}"
    assert audience_members(e2e, segment["id"]) == sorted(f"SHA256_EMAIL:{sha(e)}" for e in emails)

    second = public_api.run(sync["id"])  # the audience is not created twice
    assert second["status"] == "completed" and second["counts"]["unchanged"] == 10
    assert len([s for s in e2e.docs("linkedin", "segments") if s["name"] == "New audience"]) == 1
