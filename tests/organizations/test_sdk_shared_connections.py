"""client.connections.shared_connections through the SDK: a partner shares a connection of one
organization with another, which sees it in its list with parent_connection_id and can change nothing."""

import httpx
import pytest
from polytomic.core.api_error import ApiError as SdkError
from polytomic.errors import ForbiddenError, NotFoundError

from console.accounts.services import create_api_key, sign_up
from console.connections.models import Connection
from console.datamodels.models import DataModel
from tests.sdk_strict import strict_sdk

pytestmark = pytest.mark.django_db(transaction=True)
UNKNOWN = "00000000-0000-0000-0000-000000000000"
PASSWORD = "lent-warehouse-password-8c21"


def body(error) -> dict:
    return error.body if isinstance(error.body, dict) else error.body.dict()


@pytest.fixture
def child(db):
    user = sign_up("child@example.com", "correct-horse-battery", "Globex")
    organization = user.memberships.get().organization
    _, raw = create_api_key(organization, "child", created_by=user)
    return organization, raw


@pytest.fixture
def lent(organization):
    return Connection.objects.create(organization=organization, name="Acme warehouse", type="postgresql",
                                     configuration={"hostname": "db.acme.example", "port": 5432, "username": "acme",
                                                    "database": "prod"},
                                     secrets={"password": PASSWORD})


@pytest.fixture
def partner(live_server, partner_key):
    return strict_sdk(live_server.url, partner_key)


def test_partner_shares_and_every_side_sees_the_copy(partner, live_server, api_key, organization, child, lent):
    child_org, child_key = child
    shares = partner.connections.shared_connections
    made = shares.create_shared_connection(str(organization.pk), str(lent.pk), child_organization_id=str(child_org.pk),
                                           name="Warehouse from Acme").data
    copy = Connection.objects.get(pk=made.id)
    assert (copy.organization, copy.parent, copy.name, copy.type) == (child_org, lent, "Warehouse from Acme", "postgresql")
    assert copy.encrypted_secrets == "" and copy.configuration == {}

    owner_view = strict_sdk(live_server.url, api_key).connections.shared_connections.list_shared_connections(str(lent.pk))
    partner_view = shares.list_shared_connections_for_partner(str(organization.pk), str(lent.pk))
    for listed in (owner_view.data, partner_view.data):
        assert [(c.id, c.organization_id, c.parent_connection_id, c.name) for c in listed] == [
            (made.id, str(child_org.pk), str(lent.pk), "Warehouse from Acme")]

    child_sdk = strict_sdk(live_server.url, child_key)
    [seen] = child_sdk.connections.list().data
    assert (seen.id, seen.parent_connection_id, seen.type.id) == (made.id, str(lent.pk), "postgresql")
    fetched = child_sdk.connections.get(made.id).data
    assert fetched.parent_connection_id == str(lent.pk)
    assert "password" not in fetched.configuration and fetched.configuration["hostname"] == "db.acme.example"
    assert strict_sdk(live_server.url, api_key).connections.get(str(lent.pk)).data.parent_connection_id is None


def test_the_name_defaults_to_the_parents(partner, organization, child, lent):
    made = partner.connections.shared_connections.create_shared_connection(
        str(organization.pk), str(lent.pk), child_organization_id=str(child[0].pk)).data
    assert Connection.objects.get(pk=made.id).name == "Acme warehouse"


def test_sharing_refusals_name_the_problem(partner, live_server, partner_key, api_key, organization, child, lent):
    child_org, child_key = child
    shares = partner.connections.shared_connections
    acme, conn = str(organization.pk), str(lent.pk)

    with pytest.raises(ForbiddenError) as ordinary:
        strict_sdk(live_server.url, api_key).connections.shared_connections.create_shared_connection(
            acme, conn, child_organization_id=str(child_org.pk))
    assert ordinary.value.body.key == "partner_key_required"
    with pytest.raises(NotFoundError) as no_org:
        shares.create_shared_connection(UNKNOWN, conn, child_organization_id=str(child_org.pk))
    assert no_org.value.body.message == f"No organization with id {UNKNOWN}."
    with pytest.raises(NotFoundError) as elsewhere:  # the connection is Acme's, not Globex's
        shares.list_shared_connections_for_partner(str(child_org.pk), conn)
    assert elsewhere.value.body.message == f"No connection with id {conn} in organization 'Globex'."
    with pytest.raises(NotFoundError) as no_child:
        shares.create_shared_connection(acme, conn, child_organization_id=UNKNOWN)
    assert no_child.value.body.metadata["errors"] == [{"field": "child_organization_id", "message": "is unknown"}]
    with pytest.raises(SdkError) as itself:
        shares.create_shared_connection(acme, conn, child_organization_id=acme)
    assert itself.value.status_code == 422
    assert body(itself.value)["message"] == ("child_organization_id: owns the connection already; share it with "
                                             "another organization")

    made = shares.create_shared_connection(acme, conn, child_organization_id=str(child_org.pk)).data
    with pytest.raises(SdkError) as twice:
        shares.create_shared_connection(acme, conn, child_organization_id=str(child_org.pk))
    assert twice.value.status_code == 409 and body(twice.value)["metadata"] == {"id": made.id}
    with pytest.raises(SdkError) as reshared:
        shares.create_shared_connection(str(child_org.pk), made.id, child_organization_id=acme)
    assert reshared.value.status_code == 422
    assert body(reshared.value)["metadata"]["errors"][0]["field"] == "connection_id"

    garbled = httpx.post(f"{live_server.url}/api/organizations/{acme}/connections/{conn}/shared",
                         json={"child_organization_id": "globex"}, headers={"Authorization": f"Bearer {partner_key}"})
    assert garbled.status_code == 400 and garbled.json()["metadata"]["errors"][0]["field"] == "child_organization_id"

    with pytest.raises(NotFoundError):  # the owner's route: another organization's connection is not found
        strict_sdk(live_server.url, child_key).connections.shared_connections.list_shared_connections(conn)
    assert Connection.objects.filter(parent=lent).count() == 1


def test_the_child_uses_the_copy_but_changes_nothing(partner, live_server, api_key, organization, child, lent):
    child_org, child_key = child
    made = partner.connections.shared_connections.create_shared_connection(
        str(organization.pk), str(lent.pk), child_organization_id=str(child_org.pk)).data
    child_sdk = strict_sdk(live_server.url, child_key)

    with pytest.raises(SdkError) as changed:
        child_sdk.connections.update(made.id, name="Mine now", configuration={"hostname": "127.0.0.1",
                                                                              "password": "********"})
    assert changed.value.status_code == 403 and body(changed.value)["key"] == "shared_connection"
    assert body(changed.value)["message"] == ("connection: is shared with this organization by 'Acme'; only 'Acme' "
                                              "can change its settings or credentials")
    with pytest.raises(SdkError) as tested:  # a test on top of the stored secrets would send them elsewhere
        child_sdk.connections.test_connection(type="postgresql", connection_id=made.id,
                                              configuration={"hostname": "127.0.0.1", "port": 5432,
                                                             "username": "acme", "database": "prod"})
    assert tested.value.status_code == 403 and body(tested.value)["key"] == "shared_connection"
    with pytest.raises(NotFoundError):
        child_sdk.connections.get(str(lent.pk))
    lent.refresh_from_db()
    assert lent.configuration["hostname"] == "db.acme.example" and lent.secrets == {"password": PASSWORD}
    assert Connection.objects.get(pk=made.id).name == "Acme warehouse"

    DataModel.objects.create(organization=child_org, connection_id=made.id, name="Orders",
                             configuration={"query": "SELECT 1"})
    with pytest.raises(SdkError) as in_use:
        child_sdk.connections.delete(made.id)
    assert in_use.value.status_code == 422 and "model 'Orders'" in body(in_use.value)["message"]
    with pytest.raises(SdkError) as lent_out:
        strict_sdk(live_server.url, api_key).connections.delete(str(lent.pk))
    assert lent_out.value.status_code == 422 and "Acme warehouse" in body(lent_out.value)["message"]
    with pytest.raises(SdkError) as still_shared:
        partner.organization.delete(str(organization.pk))
    assert still_shared.value.status_code == 409
    assert body(still_shared.value)["message"] == ("Its connections are shared with Globex; delete those shared "
                                                   "connections first.")

    DataModel.objects.filter(organization=child_org).delete()
    child_sdk.connections.delete(made.id)
    partner.organization.delete(str(organization.pk))
    assert not Connection.objects.exists()


def test_deleting_the_child_organization_removes_only_its_copy(partner, live_server, api_key, organization, child,
                                                               lent):
    child_org, _ = child
    made = partner.connections.shared_connections.create_shared_connection(
        str(organization.pk), str(lent.pk), child_organization_id=str(child_org.pk)).data
    DataModel.objects.create(organization=child_org, connection_id=made.id, name="Orders",
                             configuration={"query": "SELECT 1"})
    partner.organization.delete(str(child_org.pk))
    assert not Connection.objects.filter(pk=made.id).exists()
    assert list(Connection.objects.values_list("pk", flat=True)) == [lent.pk]
    owner = strict_sdk(live_server.url, api_key).connections.shared_connections
    assert owner.list_shared_connections(str(lent.pk)).data == []
