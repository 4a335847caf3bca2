import pytest

from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)

from tests.sandbox.connections import sandbox_connection


@pytest.fixture
def session_for(sandbox, settings, organization):  # noqa: F811
    """session_for("salesloft") -> the ProviderSession a worker opens (provider_session) for a
    connection of that type on the sandbox; `config` is stored as given, beside the credentials."""
    from console.connections.sessions import provider_session

    settings.SANDBOX_URL = sandbox.url
    opened = []

    def make(type_id, config=None):
        if type_id == "httpapi":
            config = {"url": f"{sandbox.url}/webhook", **(config or {})}
        connection = sandbox_connection(organization, type_id, config,
                                        sandbox=None if type_id == "httpapi" else sandbox)
        session = provider_session(connection)
        opened.append(session)
        return session

    yield make
    for session in opened:
        session.http.close()


@pytest.fixture
def sandbox_sessions(sandbox, settings, monkeypatch):  # noqa: F811
    """Console discovery talks to the sandbox for every connection, through provider_session
    on an unsaved twin of the connection that carries the sandbox's credentials."""
    from console.connections.services import connection_config
    from console.connections.sessions import provider_session
    from console.targets import services

    settings.SANDBOX_URL = sandbox.url

    def open_session(connection):
        twin = sandbox_connection(connection.organization, connection.type, connection_config(connection),
                                  sandbox=None if connection.type == "httpapi" else sandbox, save=False)
        return provider_session(twin, deadline=services.probes.deadline())

    monkeypatch.setattr(services, "open_session", open_session)
    return sandbox


@pytest.fixture
def snowflake(organization):
    from console.connections.models import Connection

    return Connection.objects.create(
        organization=organization, name="Snowflake Connection", type="snowflake",
        configuration={"account": "uc193736182", "username": "user", "dbname": "database"},
    )


@pytest.fixture
def active_users(organization, snowflake):
    """Seed 000's model: SELECT MAX(last_activity_date) ..., plan, first_name, last_name, email."""
    from console.datamodels.models import DataModel, ModelField

    model = DataModel.objects.create(
        organization=organization, connection=snowflake, name="Active Users",
        configuration={"query": "SELECT MAX(last_activity_date) AS last_activity_date, plan, first_name, "
                                "last_name, email FROM users GROUP BY plan, first_name, last_name, email"},
    )
    for position, (name, type_) in enumerate([("last_activity_date", "datetime"), ("plan", "string"),
                                              ("first_name", "string"), ("last_name", "string"),
                                              ("email", "string"), ("contact_id", "string"),
                                              ("score", "number")]):
        ModelField.objects.create(model=model, name=name, type=type_, position=position)
    return model


@pytest.fixture
def target(organization, sandbox_sessions):
    """target("salesloft") -> a connection of that type whose discovery talks to the sandbox."""
    from console.connections.models import Connection

    def make(type_id, name=None, configuration=None):
        return Connection.objects.create(organization=organization, name=name or f"My {type_id} connection",
                                         type=type_id, configuration=configuration or {})

    return make
