"""The official SDK (polytomic==25.9.10) as a strict client of discovery and sync definitions."""

import pytest
from polytomic import Identity, ModelSyncV5Target, Polytomic, Schedule, Source, SyncField
from polytomic.errors import BadRequestError, NotFoundError

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live_server, api_key):
    return Polytomic(base_url=live_server.url, token=api_key, version="2025-09-18", max_retries=0)


def test_sdk_discovers_targets_and_manages_a_sync(client, active_users, target):
    salesloft = target("salesloft", "My Salesloft Connection")
    linkedin = target("linkedinads", "LinkedIn Ads")

    listed = client.model_sync.targets.list(str(salesloft.pk))
    assert "cadence:10" in [o.id for o in listed.data]
    assert listed.target_creation.supported is False
    fields = client.model_sync.targets.get_target_fields(str(salesloft.pk), target="cadence:10", refresh=True)
    assert fields.data.id == "cadence:10" and "Email" in [f.id for f in fields.data.fields]
    assert fields.data.modes[0].mode == "updateOrCreate" and fields.data.refreshed_at is not None

    audiences = client.model_sync.targets.list(str(linkedin.pk), include_target_creation_values=True)
    account = audiences.target_creation.properties[0]
    assert account.id == "account" and account.values[0].value == "512630692::urn:li:organization:28818517"
    prop = client.model_sync.targets.get_create_property(str(linkedin.pk), "type")
    assert [v.value for v in prop.data.values] == ["user_audience", "company_audience"]
    new = client.model_sync.targets.get_target_fields(
        str(linkedin.pk), properties={"account": ["512630692::urn:li:organization:28818517"],
                                      "type": ["user_audience"], "name": ["New audience"]})
    assert new.data.properties.target_creator is True

    model_id = str(active_users.pk)
    created = client.model_sync.create(
        name="Users -> Salesloft cadence", mode="updateOrCreate", active=True,
        schedule=Schedule(frequency="daily", hour="5", minute="0"),
        target=ModelSyncV5Target(connection_id=str(salesloft.pk), object="cadence:10"),
        identity=Identity(source=Source(model_id=model_id, field="email"), target="Email", function="Equality"),
        fields=[SyncField(source=Source(model_id=model_id, field="first_name"), target="FirstName")],
        idempotency_key="sdk-create-0001",
    ).data
    assert created.model_ids == [model_id] and created.identity.target == "Email"
    assert client.model_sync.get(created.id).data.fields[0].target == "FirstName"

    updated = client.model_sync.update(
        created.id, name="Users -> Salesloft people", mode="update",
        schedule=Schedule(frequency="manual"),
        target=ModelSyncV5Target(connection_id=str(salesloft.pk), object="people"),
        identity=Identity(source=Source(model_id=model_id, field="email"), target="Email", function="Equality"),
        fields=[SyncField(source=Source(model_id=model_id, field="last_name"), target="LastName",
                          sync_mode="create")],
    ).data
    assert (updated.name, updated.mode, updated.target.object) == ("Users -> Salesloft people", "update", "people")
    assert updated.fields[0].sync_mode == "create"

    listed_syncs = client.model_sync.list(limit=10)
    assert [s.id for s in listed_syncs.data] == [created.id]
    assert client.model_sync.activate(created.id, active=False).data.active is False
    assert client.model_sync.get_schedule_options().data.schedule_options[0].frequency == "manual"

    with pytest.raises(BadRequestError) as refused:
        client.model_sync.update(
            created.id, name="x", mode="update", schedule=Schedule(frequency="manual"),
            target=ModelSyncV5Target(connection_id=str(salesloft.pk), object="people"),
            fields=[SyncField(source=Source(model_id=model_id, field="last_name"), target="LastName")])
    assert refused.value.body.metadata["errors"][0]["field"] == "identity"

    client.model_sync.delete(created.id)
    with pytest.raises(NotFoundError):
        client.model_sync.get(created.id)
