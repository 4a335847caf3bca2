"""Discovery modules against the sandbox providers, one provider at a time."""

import httpx
import pytest

from integrations import targets
from integrations.base import ConnectionFailed, ConnectorError, NeedsReconnect, ProviderSession, RateLimited


def modes(obj):
    return {m.id: m for m in obj.modes}


def test_salesloft_lists_accounts_people_and_every_live_cadence(session_for):
    session = session_for("salesloft")
    found = {o.id: o for o in targets.target_objects("salesloft", session)}
    assert {"accounts", "people", "cadence:10", "cadence:11", "cadence:12"} <= set(found)
    assert "cadence:13" not in found  # archived
    assert found["cadence:10"].name == "Cadence: Inbound Leads - Fast Follow"
    assert set(modes(found["people"])) == {"create", "update", "updateOrCreate"}
    assert modes(found["cadence:10"])["updateOrCreate"].requires_identity
    assert all(m.description for o in found.values() for m in o.modes)
    assert targets.target_creation("salesloft") is None


def test_salesloft_cadence_fields_are_person_attributes_with_custom_fields(session_for):
    fields = {f.id: f for f in targets.target_fields("salesloft", session_for("salesloft"), "cadence:10")}
    assert fields["Email"].identity and not fields["FirstName"].identity
    assert {"FirstName", "LastName", "Title", "Phone", "Company"} <= set(fields)
    assert fields["custom:Plan"].name == "Plan (custom)"
    assert "custom:Segment" not in fields  # a company field
    accounts = {f.id: f for f in targets.target_fields("salesloft", session_for("salesloft"), "accounts")}
    assert accounts["Domain"].identity and accounts["Name"].required
    assert "custom:Segment" in accounts


def test_salesloft_sentence_reads_like_the_sync(session_for):
    obj = next(o for o in targets.target_objects("salesloft", session_for("salesloft")) if o.id == "cadence:10")
    assert targets.sentence("salesloft", obj, "updateOrCreate", "Email") == (
        "Upsert People in Salesloft matched on Email, then add them to cadence Inbound Leads - Fast Follow"
    )


def test_unknown_object_and_unknown_type(session_for):
    with pytest.raises(KeyError):
        targets.target_fields("salesloft", session_for("salesloft"), "opportunities")
    with pytest.raises(ConnectorError):
        targets.target_objects("snowflake", None)


def test_bad_credentials_say_so(sandbox):
    import httpx

    from integrations.base import NeedsReconnect, ProviderSession

    session = ProviderSession(config={}, http=httpx.Client(
        base_url=f"{sandbox.url}/salesloft/v2", headers={"Authorization": "Bearer wrong"}))
    with pytest.raises(NeedsReconnect):
        targets.target_objects("salesloft", session)


def test_http_api_offers_its_endpoint_and_takes_any_field(session_for):
    session = session_for("httpapi", {"url": "https://hooks.example.com/in", "method": "post", "fields": "email, plan"})
    [endpoint] = targets.target_objects("httpapi", session)
    assert endpoint.id == "endpoint" and endpoint.name == "POST https://hooks.example.com/in"
    assert not modes(endpoint)["append"].requires_identity
    assert [f.id for f in targets.target_fields("httpapi", session, "endpoint")] == ["email", "plan"]
    assert targets.accepts_new_fields("httpapi")


def test_gong_lists_every_flow_of_every_owner(session_for, sandbox):
    session = session_for("gong")
    flows = targets.target_objects("gong", session)
    seeded = sandbox.state.scoped("gong").find("flows")
    assert {f.id for f in flows} == {str(f["id"]) for f in seeded}
    assert all(f.name.startswith("Flow: ") for f in flows)
    assert set(modes(flows[0])) == {"updateOrCreate", "create", "remove"}
    [identity] = [f for f in targets.target_fields("gong", session, flows[0].id) if f.identity]
    assert identity.id == "Id" and identity.required
    only_one_owner = session_for("gong", {"flow_owner_email": "nobody-by-that-name@example.com"})
    with pytest.raises(ConnectorError):
        targets.target_objects("gong", only_one_owner)


def test_linkedin_audiences_accounts_and_creation(session_for):
    session = session_for("linkedinads")
    audiences = {o.id: o for o in targets.target_objects("linkedinads", session)}
    user = "512630692::urn:li:organization:28818517~user_audience.10700"
    company = "512630692::urn:li:organization:28818517~company_audience.10701"
    assert audiences[user].name == "User Audience: Website visitors - enterprise"
    assert audiences[company].name == "Company Audience: Target accounts Q3"
    assert not any(i.startswith("509876543::") for i in audiences)  # a VIEWER account
    for mode in audiences[user].modes:
        assert (mode.id, mode.requires_identity, mode.supports_target_filters, mode.supports_per_field_mode) in {
            ("create", False, False, False), ("remove", False, False, False)}
    assert [p.id for p in targets.target_creation("linkedinads")] == ["account", "type", "name"]
    assert targets.property_values("linkedinads", session, "account") == [
        ("512630692::urn:li:organization:28818517", "Polytomic Inc. (512630692)"),
        ("516848833::urn:li:organization:30000001", "Sandbox Demo Co (516848833)"),
    ]
    assert targets.property_values("linkedinads", session, "type") == [
        ("user_audience", "User Audience"), ("company_audience", "Company Audience")]
    user_fields = {f.id for f in targets.target_fields("linkedinads", session, user)}
    assert {"Email", "FirstName", "LastName"} <= user_fields
    assert "CompanyName" in {f.id for f in targets.target_fields("linkedinads", session, company)}
    new = {f.id for f in targets.target_fields("linkedinads", session, None, {"type": "user_audience"})}
    assert new == user_fields
    chosen = session_for("linkedinads", {"accounts": ["516848833"]})
    assert [v for v, _ in targets.property_values("linkedinads", chosen, "account")] == [
        "516848833::urn:li:organization:30000001"]


def test_salesforce_target_configuration_follows_seed_002():
    def names(object_id):
        return [c.name for c in targets.target_configuration_fields("salesforce", object_id)]

    assert sorted(names("multi:leadOrContact")) == [
        "bulk_batch_size", "concurrency_mode", "create_records_as", "ingestion_api", "rest_batch_size"]
    assert sorted(names("Lead")) == [
        "bulk_batch_size", "concurrency_mode", "ignore_invalid_references", "ingestion_api", "insert_null_values",
        "invalid_relationships", "only_sync_different", "rest_batch_size", "skip_converted", "sort_batches_by"]
    assert sorted(names("Contact")) == [
        "bulk_batch_size", "concurrency_mode", "ingestion_api", "insert_null_values", "invalid_relationships",
        "only_sync_different", "rest_batch_size", "sort_batches_by"]
    options = {c.name: c for c in targets.target_configuration_fields("salesforce", "multi:leadOrContact")}
    assert options["create_records_as"].choices == ("Contact", "Lead", "ContactIfAccountId")
    assert options["ingestion_api"].choices == ("automatic", "bulk", "rest") and options["ingestion_api"].required
    assert options["concurrency_mode"].choices == ("Parallel", "Serial")
    assert targets.target_configuration_fields("salesloft", "people") == []


class RefusingTransport(httpx.BaseTransport):
    """A session transport that raises what the retrying transport raises after its waits."""

    def __init__(self, error):
        self.error = error

    def handle_request(self, request):
        raise self.error


@pytest.mark.parametrize("error, kind", [
    (RateLimited("api.example.com kept answering 429 (Too Many Requests); waited 600 s in all.", 30), RateLimited),
    (NeedsReconnect("The grant was revoked; reconnect the connection."), NeedsReconnect),
])
def test_rate_limits_and_revoked_grants_say_what_they_are(error, kind):
    http = httpx.Client(base_url="https://api.example.com", transport=RefusingTransport(error))
    session = ProviderSession(config={}, http=http)
    with pytest.raises(kind) as raised:
        targets.get_json(session, "/v2/people")
    assert "Could not reach" not in str(raised.value)
    assert str(raised.value) == str(error)


def test_unreachable_provider_still_says_so():
    http = httpx.Client(base_url="https://api.example.com",
                        transport=RefusingTransport(httpx.ConnectError("connection refused")))
    with pytest.raises(ConnectionFailed, match="Could not reach the provider: connection refused"):
        targets.get_json(ProviderSession(config={}, http=http), "/v2/people")
