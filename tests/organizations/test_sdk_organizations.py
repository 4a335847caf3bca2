"""Organizations through the official SDK with a partner key (client.organization.*)."""

import httpx
import pytest
from django.db.models.signals import pre_delete
from polytomic.core.api_error import ApiError as SdkError
from polytomic.errors import ConflictError, NotFoundError, UnprocessableEntityError

from console.accounts.models import ApiKey, Membership, Organization, User
from console.accounts.services import add_member, create_api_key, sign_up
from console.connections.models import Connection
from console.datamodels.models import DataModel
from console.engine.models import Execution, ExecutionStatus
from console.syncs.models import Sync
from tests.sdk_strict import strict_sdk

pytestmark = pytest.mark.django_db(transaction=True)
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def partner(live_server, partner_key):
    return strict_sdk(live_server.url, partner_key)


@pytest.fixture
def ordinary(live_server, api_key):
    return strict_sdk(live_server.url, api_key)


def test_partner_creates_lists_gets_updates_and_deletes_organizations(partner, organization):
    created = partner.organization.create(name="Initech", issuer="https://id.initech.example/", sso_domain="initech.example",
                                          sso_org_id="org_01", client_id="client-1", client_secret="oidc-secret-value").data
    stored = Organization.objects.get(pk=created.id)
    assert (created.name, created.issuer, created.sso_domain, created.sso_org_id) == (
        "Initech", "https://id.initech.example/", "initech.example", "org_01")
    assert stored.client_id == "client-1" and stored.encrypted_client_secret
    assert "oidc-secret-value" not in stored.encrypted_client_secret

    listed = partner.organization.list().data
    assert [o.name for o in listed] == ["Acme", "Initech"]
    assert {o.id for o in listed} == {str(organization.pk), created.id}

    fetched = partner.organization.get(created.id).data
    assert fetched == created

    updated = partner.organization.update(created.id, name="Initrode", sso_domain="initrode.example").data
    stored.refresh_from_db()
    assert updated.name == stored.name == "Initrode"
    assert updated.sso_domain == stored.sso_domain == "initrode.example"
    assert updated.issuer == stored.issuer == "https://id.initech.example/"  # left out, kept

    partner.organization.delete(created.id)
    assert not Organization.objects.filter(pk=created.id).exists()
    with pytest.raises(NotFoundError) as gone:
        partner.organization.get(created.id)
    assert gone.value.body.message == f"No organization with id {created.id}."


def test_the_client_secret_is_never_answered(live_server, partner_key):
    headers = {"Authorization": f"Bearer {partner_key}"}
    with httpx.Client(base_url=live_server.url, headers=headers) as http:
        created = http.post("/api/organizations", json={"name": "Hooli", "client_secret": "oidc-secret-value"})
        answers = [created, http.get("/api/organizations"), http.get(f"/api/organizations/{created.json()['data']['id']}"),
                   http.put(f"/api/organizations/{created.json()['data']['id']}",
                            json={"name": "Hooli", "client_secret": "oidc-secret-value"})]
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert all("oidc-secret-value" not in a.text and "client_secret" not in a.text for a in answers)


def as_dict(body) -> dict:
    """An error body as the SDK hands it: parsed where the operation declares the status, raw JSON elsewhere."""
    return body if isinstance(body, dict) else body.dict()


def test_ordinary_keys_get_403_on_every_organization_route(ordinary, organization):
    calls = [lambda: ordinary.organization.list(), lambda: ordinary.organization.create(name="Mine"),
             lambda: ordinary.organization.get(str(organization.pk)),
             lambda: ordinary.organization.update(str(organization.pk), name="Renamed"),
             lambda: ordinary.organization.delete(str(organization.pk))]
    for call in calls:
        with pytest.raises(SdkError) as refused:
            call()
        body = as_dict(refused.value.body)
        assert refused.value.status_code == 403 and body["key"] == "partner_key_required"
        assert body["message"].startswith("Only a partner key can manage organizations")
    organization.refresh_from_db()
    assert organization.name == "Acme" and Organization.objects.count() == 1


def test_partner_key_errors_name_the_problem(partner, organization, live_server, partner_key):
    with pytest.raises(SdkError) as unknown:  # the SDK declares no 404 for update: a plain ApiError
        partner.organization.update(UNKNOWN, name="Nobody")
    assert unknown.value.status_code == 404
    assert as_dict(unknown.value.body)["message"] == f"No organization with id {UNKNOWN}."
    with pytest.raises(NotFoundError):
        partner.organization.delete(UNKNOWN)

    with pytest.raises(ConflictError) as taken:
        partner.organization.create(name="acme")
    assert taken.value.body.message == "An organization named 'acme' already exists."
    other = partner.organization.create(name="Globex").data
    with pytest.raises(ConflictError):
        partner.organization.update(other.id, name="Acme")

    with pytest.raises(UnprocessableEntityError) as blank:
        partner.organization.create(name="   ")
    assert blank.value.body.message == "name: is required"
    with pytest.raises(UnprocessableEntityError) as issuer:
        partner.organization.update(other.id, name="Globex", issuer="not a url")
    assert issuer.value.body.metadata["errors"] == [{"field": "issuer", "message": "must be an http(s) URL"}]

    headers = {"Authorization": f"Bearer {partner_key}"}
    missing = httpx.post(f"{live_server.url}/api/organizations", json={"issuer": "https://x.example"}, headers=headers)
    assert missing.status_code == 400 and missing.json()["metadata"]["errors"][0]["field"] == "name"
    assert sorted(Organization.objects.values_list("name", flat=True)) == ["Acme", "Globex"]
    assert Organization.objects.get(name="Globex").issuer == ""


def test_deleting_an_organization_cancels_its_runs_then_removes_what_it_owns(partner, organization, org_admin):
    warehouse = Connection.objects.create(organization=organization, name="Warehouse", type="postgresql")
    model = DataModel.objects.create(organization=organization, connection=warehouse, name="Users",
                                     configuration={"query": "SELECT 1"})
    target = Connection.objects.create(organization=organization, name="CRM", type="fake")
    syncs = [Sync.objects.create(organization=organization, name=f"Sync {n}", mode="create", model=model,
                                 target_connection=target, target_object="people", fields=[],
                                 schedule={"frequency": "manual"}) for n in (1, 2)]
    queued = Execution.objects.create(sync=syncs[0], status=ExecutionStatus.QUEUED)
    running = Execution.objects.create(sync=syncs[1], status=ExecutionStatus.RUNNING, claim="worker-1")
    elsewhere = sign_up("elsewhere@example.com", "correct-horse-battery", "Globex")
    add_member(organization, elsewhere)
    key, _ = create_api_key(organization, "k", created_by=org_admin)

    seen = {}

    def remember(sender, instance, **kwargs):
        seen[instance.pk] = Execution.objects.get(pk=instance.pk).status

    pre_delete.connect(remember, sender=Execution)
    try:
        partner.organization.delete(str(organization.pk))
    finally:
        pre_delete.disconnect(remember, sender=Execution)

    assert seen == {queued.pk: ExecutionStatus.CANCELED, running.pk: ExecutionStatus.CANCELING}
    assert not Organization.objects.filter(pk=organization.pk).exists()
    for model_class in (Connection, DataModel, Sync, Execution):
        assert not model_class.objects.exists()
    assert not ApiKey.objects.filter(pk=key.pk).exists()
    assert not User.objects.filter(pk=org_admin.pk).exists()  # belonged nowhere else
    assert User.objects.filter(pk=elsewhere.pk).exists()
    assert list(Membership.objects.values_list("organization__name", flat=True)) == ["Globex"]


def test_a_partner_key_identifies_itself_as_partner(partner):
    me = partner.identity.get().data
    assert (me.is_partner, me.is_user, me.is_organization, me.organization_id) == (True, False, False, None)
