"""Seed 004's Salesloft targets where a person meets them: the builder's objects and mode
descriptions, and redaction's confirmation, typed in the console and flagged in the SDK."""

import pytest
from polytomic import Identity, ModelSyncV5Target, Schedule, Source
from polytomic.errors import BadRequestError

from console.syncs.models import Sync
from tests.sdk_strict import strict_sdk

from .test_console import step

REDACTION = {"object": "account_redaction", "mode": "remove", "identity_source": "email",
             "identity_target": "Domain", "identity_function": "Equality", "frequency": "manual",
             "name": "GDPR erasure", "active": "on"}


@pytest.fixture
def salesloft(target):
    return target("salesloft", "My Salesloft Connection")


@pytest.mark.django_db
def test_the_builder_offers_activities_redaction_and_warns_on_account_delete(console, active_users, salesloft):
    base = {"model": active_users.pk, "connection": salesloft.pk}
    objects = step(console, **base)
    for name in ("Activities: calls", "Activities: emails", "Activities: notes", "Account and people redaction"):
        assert name in objects
    accounts = step(console, **base, object="accounts")
    assert "Deletion is permanent and cannot be undone: Salesloft also removes data linked to the account, " \
           "such as cadence memberships and activity history." in accounts
    redaction = step(console, **base, object="account_redaction", mode="remove")
    assert "Type REDACT to confirm" in redaction and 'name="config_confirm_redaction"' in redaction
    assert "Redaction is irreversible" in redaction


@pytest.mark.django_db
def test_a_redaction_sync_is_saved_and_activated_only_with_the_typed_word(console, active_users, salesloft):
    posted = {"model": active_users.pk, "connection": salesloft.pk, **REDACTION}
    refused = console.post("/syncs/new", posted)
    assert refused.status_code == 400 and not Sync.objects.exists()
    assert "target.configuration.confirm_redaction: must be true (in the console: type REDACT)" in \
        refused.content.decode()
    saved = console.post("/syncs/new", {**posted, "config_confirm_redaction": "REDACT"})
    assert saved.status_code == 302, saved.content.decode()
    sync = Sync.objects.get()
    assert sync.target_configuration == {"confirm_redaction": "REDACT"} and sync.active

    console.post(f"/syncs/{sync.pk}/activate", {"active": "false"})
    detail = console.get(f"/syncs/{sync.pk}").content.decode()
    assert 'name="confirm_redaction"' in detail and "Type REDACT to confirm" in detail
    console.post(f"/syncs/{sync.pk}/activate", {"active": "true", "confirm_redaction": "yes"})
    sync.refresh_from_db()
    assert not sync.active
    console.post(f"/syncs/{sync.pk}/activate", {"active": "true", "confirm_redaction": "REDACT"})
    sync.refresh_from_db()
    assert sync.active


@pytest.mark.django_db(transaction=True)
def test_the_sdk_creates_a_redaction_sync_only_with_the_confirmation_flag(live_server, api_key, active_users,
                                                                         salesloft):
    client = strict_sdk(live_server.url, api_key)
    model_id = str(active_users.pk)
    definition = {
        "name": "GDPR erasure", "mode": "remove", "schedule": Schedule(frequency="manual"),
        "identity": Identity(source=Source(model_id=model_id, field="email"), target="Domain", function="Equality"),
        "fields": [],
    }
    with pytest.raises(BadRequestError) as refused:
        client.model_sync.create(**definition, target=ModelSyncV5Target(connection_id=str(salesloft.pk),
                                                                        object="account_redaction"))
    assert "target.configuration.confirm_redaction" in str(refused.value.body)
    created = client.model_sync.create(**definition, target=ModelSyncV5Target(
        connection_id=str(salesloft.pk), object="account_redaction", configuration={"confirm_redaction": True})).data
    assert created.target.configuration == {"confirm_redaction": "REDACT"}
    fields = client.model_sync.targets.get_target_fields(str(salesloft.pk), target="activity:call")
    assert {"PersonEmail", "PersonId", "Note", "Duration"} <= {f.id for f in fields.data.fields}
