"""The provider contract: every provider of the catalogue, against its sandbox emulation,
through the console's own paths (clean_configuration, check_connection, provider_session).

spec accepts and refuses configurations; check succeeds and fails in the provider's words;
discovery lists objects and fields; writes create, update and remove through every mode of
the objects written, with per-record outcomes; a 429 is waited out; an expired OAuth token
is renewed; a bulk source streams rows.
"""

import httpx
import pytest

from console.connections import services, sessions
from console.connections.models import ConnectionStatus
from integrations import catalogue, registry, targets
from integrations.base import OutgoingRecord, SourceRefused, WriteSpec
from integrations.clock import OffsetClock
from integrations.writers import make_writer
from tests.sandbox.connections import OAUTH, keys, sandbox_connection, sandbox_name

from .providers import CASES, provider_ids

pytestmark = pytest.mark.django_db
PROVIDERS = provider_ids()
OAUTH_PROVIDERS = [type_id for type_id in PROVIDERS if catalogue.get(type_id).oauth is not None]


def filled(config: dict, sandbox) -> dict:
    return {k: v.replace("{sandbox}", sandbox.url) if isinstance(v, str) else v for k, v in config.items()}


def connection_for(organization, sandbox, type_id, configuration=None, auth=""):
    if type_id == "httpapi":
        return sandbox_connection(organization, type_id, {"url": f"{sandbox.url}/webhook/hooks", **(configuration or {})})
    return sandbox_connection(organization, type_id, configuration, sandbox=sandbox, auth=auth)


def session_of(connection, open_sessions, **options):
    session = sessions.provider_session(connection, **options)
    open_sessions.append(session)
    return session


class WithSandbox(OffsetClock):
    """A session's clock that moves the sandbox's on with it: waiting out a 429 lets the
    provider's own rate window pass too, without sleeping."""

    def __init__(self, sandbox):
        super().__init__()
        self.sandbox = sandbox

    def advance(self, seconds: float):
        super().advance(seconds)
        self.sandbox.clock.advance(seconds)


def request_log(sandbox) -> list[dict]:
    return httpx.get(f"{sandbox.url}/_sandbox/requests", params={"log": 1}).json()["log"]


def test_every_provider_has_a_case_and_is_in_the_catalogue():
    assert PROVIDERS and set(PROVIDERS) <= set(CASES)
    assert set(PROVIDERS) == {kind.id for kind in catalogue.types(files=True) if kind.kind == "api"}
    assert all(CASES[type_id].source for type_id in SOURCES)


@pytest.mark.parametrize("type_id", PROVIDERS)
def test_spec_accepts_a_good_configuration_and_names_the_field_of_a_bad_one(type_id, on_sandbox):
    case, kind = CASES[type_id], catalogue.get(type_id)
    plain, secrets = services.clean_configuration(kind, filled(case.good, on_sandbox))
    kept = {**plain, **secrets}
    assert all(kept[name] == value for name, value in filled(case.good, on_sandbox).items())
    with pytest.raises(services.ConfigurationInvalid) as refused:
        services.clean_configuration(kind, filled(case.bad, on_sandbox))
    assert case.bad_field in [field for field, _ in refused.value.errors]
    with pytest.raises(services.ConfigurationInvalid) as unknown:
        services.clean_configuration(kind, {**filled(case.good, on_sandbox), "no_such_setting": 1})
    assert [field for field, _ in unknown.value.errors] == ["configuration.no_such_setting"]


@pytest.mark.parametrize("type_id", PROVIDERS)
def test_check_succeeds_with_good_credentials_and_fails_in_the_providers_words(type_id, organization, on_sandbox):
    case = CASES[type_id]
    good = services.check_connection(connection_for(organization, on_sandbox, type_id))
    assert (good.status, good.status_message) == (ConnectionStatus.HEALTHY, "")
    wrong = sandbox_connection(organization, type_id, filled(case.wrong_credentials, on_sandbox), name="wrong")
    checked = services.check_connection(wrong)
    refused_grant = "oauth_refresh_token" in case.wrong_credentials  # a refused renewal asks for a reconnect
    assert checked.status == (ConnectionStatus.NEEDS_RECONNECT if refused_grant else ConnectionStatus.UNHEALTHY)
    assert case.refusal and case.refusal in checked.status_message, checked.status_message
    if case.unquoted:
        assert case.unquoted not in checked.status_message
    for value in case.wrong_credentials.values():
        if isinstance(value, str) and "{sandbox}" not in value and len(value) > 5:
            assert value not in checked.status_message  # the secret that was refused is not repeated


@pytest.mark.parametrize("type_id", PROVIDERS)
def test_discover_lists_objects_and_their_fields(type_id, organization, on_sandbox, open_sessions):
    case = CASES[type_id]
    session = session_of(connection_for(organization, on_sandbox, type_id), open_sessions)
    found = {obj.id: obj for obj in targets.target_objects(type_id, session)}
    assert case.objects <= set(found)
    assert all(obj.name and obj.modes for obj in found.values())
    object_id, field_ids = case.fields
    fields = targets.target_fields(type_id, session, object_id)
    assert field_ids <= {f.id for f in fields}
    assert all(f.name for f in fields)


@pytest.mark.parametrize("type_id", PROVIDERS)
def test_write_creates_updates_and_removes_through_every_mode(type_id, organization, on_sandbox, inspector,
                                                              open_sessions):
    case = CASES[type_id]
    if case.settings:
        inspector.settings(**case.settings)
    session = session_of(connection_for(organization, on_sandbox, type_id), open_sessions)
    found = {obj.id: obj for obj in targets.target_objects(type_id, session)}
    written = {w.object_id for w in case.writes}
    offered = {(object_id, mode.id) for object_id in written for mode in found[object_id].modes}
    assert {(w.object_id, w.mode) for w in case.writes} == offered, "every mode of the written objects"
    for step in case.writes:
        spec = WriteSpec(object_id=step.object_id, mode=step.mode, identity_field=step.identity_field,
                         configuration=step.configuration)
        writer = make_writer(type_id, session, spec)
        writer.prepare()
        records = [OutgoingRecord(identity=identity, fields=fields) for identity, fields in step.records]
        outcomes = writer.remove(records) if step.mode == "remove" else writer.write(records)
        assert [o.identity for o in outcomes] == [identity for identity, _ in step.records]
        for outcome, expected in zip(outcomes, step.actions):
            if expected.startswith("!"):
                assert not outcome.ok and expected[1:] in outcome.error, (step, outcome)
            else:
                assert outcome.ok and outcome.action == expected, (step, outcome)
                if expected in ("inserted", "updated", ""):
                    assert bool(outcome.target_id) == case.target_ids, (step, outcome)
        held = case.held[step.object_id](inspector)
        assert step.held <= held and not step.gone & held, (step, held)


@pytest.mark.parametrize("type_id", PROVIDERS)
def test_a_429_is_waited_out(type_id, organization, on_sandbox, inspector, open_sessions):
    case, clock = CASES[type_id], WithSandbox(on_sandbox)
    session = session_of(connection_for(organization, on_sandbox, type_id), open_sessions, clock=clock)
    httpx.delete(f"{on_sandbox.url}/_sandbox/requests").raise_for_status()
    if type_id == "httpapi":
        inspector.faults(burst_429=1, retry_after=7, path="/webhook/hooks")
        step = case.writes[0]
        writer = make_writer(type_id, session, WriteSpec(step.object_id, step.mode, step.identity_field))
        [outcome] = writer.write([OutgoingRecord(identity=i, fields=f) for i, f in step.records])
        assert outcome.ok
    else:
        inspector.faults(burst_429=1, retry_after=7, path=f"/{sandbox_name(type_id)}/")
        assert targets.target_objects(type_id, session)
    statuses = [entry["status"] for entry in request_log(on_sandbox)]
    assert statuses[:2] == [429, 200]
    assert clock.offset >= 7  # the Retry-After, waited on the session's clock (and any the provider asked for after)


@pytest.mark.parametrize("type_id", OAUTH_PROVIDERS)
def test_an_expired_oauth_token_is_renewed(type_id, organization, on_sandbox, open_sessions):
    connection = connection_for(organization, on_sandbox, type_id, OAUTH[type_id], auth="oauth")
    session = session_of(connection, open_sessions)
    assert targets.target_objects(type_id, session)
    first = services.connection_config(type(connection).objects.get(pk=connection.pk))["oauth_access_token"]
    expired = httpx.post(f"{on_sandbox.url}/_sandbox/oauth/{sandbox_name(type_id)}/expire-tokens")
    assert expired.status_code == 200
    assert targets.target_objects(type_id, session)
    renewed = services.connection_config(type(connection).objects.get(pk=connection.pk))["oauth_access_token"]
    assert renewed != first
    statuses = [entry["status"] for entry in request_log(on_sandbox)]
    assert 401 in statuses


@pytest.mark.parametrize("type_id", OAUTH_PROVIDERS)
def test_a_token_past_its_expiry_is_renewed_before_it_is_used(type_id, organization, on_sandbox, open_sessions):
    clock = WithSandbox(on_sandbox)
    connection = connection_for(organization, on_sandbox, type_id, OAUTH[type_id], auth="oauth")
    session = session_of(connection, open_sessions, clock=clock)
    stored = services.connection_config(type(connection).objects.get(pk=connection.pk))
    clock.advance(24 * 3600)  # the sandbox's tokens outlive no day
    httpx.delete(f"{on_sandbox.url}/_sandbox/requests").raise_for_status()
    assert targets.target_objects(type_id, session)
    renewed = services.connection_config(type(connection).objects.get(pk=connection.pk))["oauth_access_token"]
    assert renewed != stored["oauth_access_token"]
    # a token answered without expires_in (Salesforce's) can only be known stale by its 401
    refusals = 1 if stored["oauth_token_expiry"] is None else 0
    assert [entry["status"] for entry in request_log(on_sandbox)].count(401) == refusals


SOURCES = [type_id for type_id in PROVIDERS if registry.get(type_id).source is not None]


@pytest.mark.parametrize("type_id", SOURCES)
def test_a_source_streams_rows(type_id, organization, on_sandbox, open_sessions):
    source, object_id = registry.get(type_id).source, CASES[type_id].source
    session = session_of(connection_for(organization, on_sandbox, type_id), open_sessions)
    assert object_id in {o["id"] for o in source.objects(session)}
    field_ids = [f["id"] for f in source.fields(session, object_id)]
    assert source.KEY in field_ids
    rows = [row for batch in source.Read(session, object_id, field_ids) for row in batch]
    assert rows and all(row.get(source.KEY) for row in rows)
    assert len({row[source.KEY] for row in rows}) == len(rows)


MODEL_SOURCES = [type_id for type_id in PROVIDERS if registry.get(type_id).model_source is not None]


@pytest.mark.parametrize("type_id", MODEL_SOURCES)
def test_a_model_source_types_its_fields_reads_rows_and_names_what_it_lacks(type_id, organization, on_sandbox,
                                                                             open_sessions):
    source, case = registry.get(type_id).model_source, CASES[type_id]
    session = session_of(connection_for(organization, on_sandbox, type_id), open_sessions)
    assert case.models and case.bad_model
    offered = source.items(session)
    assert set(source.requires_one_of) <= set(offered)
    for configuration in case.models:
        cleaned = source.clean(configuration)
        columns = source.fields(session, cleaned)
        assert columns and all(c.type and c.remote_type for c in columns)
        assert len({c.type for c in columns}) > 1  # typed from the provider's metadata, not all strings
        names = [c.name for c in columns]
        rows = [row for batch in source.read(session, cleaned, names, 2) for row in batch]
        assert rows and all(set(row) <= set(names) for row in rows)
    configuration, key = case.bad_model
    with pytest.raises(SourceRefused) as refused:
        source.fields(session, source.clean(configuration))
    assert refused.value.key == key and str(configuration[key]) in str(refused.value)


def test_every_provider_with_oauth_has_an_oauth_configuration_and_the_others_keys():
    for type_id in PROVIDERS:
        kind = catalogue.get(type_id)
        assert kind.oauth is None or type_id in OAUTH
        assert keys(type_id) is not None or kind.oauth is not None or type_id == "httpapi"
