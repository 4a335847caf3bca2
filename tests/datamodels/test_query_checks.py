"""A model's query is one read-only statement, refused as a 400 on configuration.query before
it reaches the warehouse, and a save or preview sends the tenant's query once."""

import json
import sqlite3

import pytest

from console.datamodels.models import DataModel
from integrations.warehouses.sqlite import SQLiteSource

pytestmark = pytest.mark.django_db

MARK = "query-under-count"


def post(api, path, body):
    return api.post(path, json.dumps(body), content_type="application/json")


def body(connection, query, **more):
    return {"name": "People", "connection_id": str(connection.pk), "configuration": {"query": query}, **more}


def people(sqlite_file) -> list[tuple]:
    with sqlite3.connect(sqlite_file) as db:
        return db.execute("SELECT * FROM people ORDER BY email").fetchall()


@pytest.mark.parametrize("query, reason", [
    ("DELETE FROM people", "not DELETE"),
    ("SELECT email FROM people; DELETE FROM people", "2 statements"),
    ("SELECT email FROM people /* ; */ ; DROP TABLE people", "2 statements"),
    ("ATTACH DATABASE 'elsewhere.sqlite3' AS elsewhere", "not ATTACH"),
    ("WITH gone AS (DELETE FROM people RETURNING *) SELECT * FROM gone", "WITH clause"),
])
@pytest.mark.parametrize("path", ["/api/models", "/api/model-preview", "/api/models?async=true"])
def test_a_query_that_is_not_one_read_is_a_400_on_the_query_field(api, sqlite_warehouse, sqlite_file, query,
                                                                     reason, path):
    before = people(sqlite_file)
    response = post(api, path, body(sqlite_warehouse, query))
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["key"] == "validation_error" and reason in error["message"]
    assert error["metadata"]["errors"][0]["field"] == "configuration.query"
    assert people(sqlite_file) == before
    assert not DataModel.objects.exists()


def test_the_console_form_shows_the_refusal_on_the_sql_field(console, sqlite_warehouse, sqlite_file):
    before = people(sqlite_file)
    form = {"name": "People", "connection": str(sqlite_warehouse.pk), "source": "query",
            "query": "SELECT 1; DELETE FROM people"}
    page = console.post("/models/new", form)
    assert page.status_code == 200 and "2 statements" in page.content.decode()
    preview = console.post("/models/preview", form)
    assert preview.status_code == 200 and "2 statements" in preview.content.decode()
    assert people(sqlite_file) == before and not DataModel.objects.exists()


@pytest.fixture
def sent(monkeypatch):
    """The statements SQLite sources run, as SQLite traces them."""
    statements = []
    connect = SQLiteSource._connect

    def traced(source):
        conn = connect(source)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(SQLiteSource, "_connect", traced)
    return lambda: [s for s in statements if MARK in s]


def test_a_save_and_a_preview_each_send_the_query_once(api, console, sqlite_warehouse, sent):
    query = f"SELECT email, score FROM people /* {MARK} */"
    created = post(api, "/api/models", body(sqlite_warehouse, query))
    assert created.status_code == 200, created.content
    assert len(sent()) == 1
    model_id = created.json()["data"]["id"]
    updated = api.put(f"/api/models/{model_id}", json.dumps(body(sqlite_warehouse, query, identifier="email")),
                      content_type="application/json")
    assert updated.status_code == 200, updated.content
    assert len(sent()) == 2
    assert post(api, "/api/model-preview", body(sqlite_warehouse, query)).status_code == 200
    assert len(sent()) == 3
    page = console.post("/models/preview", {"name": "People", "connection": str(sqlite_warehouse.pk),
                                            "source": "query", "query": query})
    assert "p0@example.com" in page.content.decode()
    assert len(sent()) == 4
