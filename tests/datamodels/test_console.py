"""The model pages: list, new (preview, then save), detail, refresh, edit and delete."""

import sqlite3

import pytest
from django.test import Client

from console.accounts.services import sign_up
from console.datamodels import services
from console.datamodels.models import DataModel

pytestmark = pytest.mark.django_db


def people_model(organization, connection) -> DataModel:
    return services.create_model(organization, {"name": "People", "connection_id": str(connection.pk),
                                                "configuration": {"table": "people"}, "identifier": "email"})


def form(connection, **values):
    return {"connection": str(connection.pk), "source": "query", "query": "", "table": "", "name": "",
            "identifier": "", **values}


def test_empty_list_points_to_a_new_model(console):
    page = console.get("/models").content.decode()
    assert "No models yet" in page and 'href="/models/new"' in page


def test_preview_shows_fields_and_first_rows(console, sqlite_warehouse):
    response = console.post("/models/preview", form(sqlite_warehouse, query="SELECT email, score FROM people"),
                            HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<code>email</code>" in page and "<code>score</code>" in page
    assert page.count("@example.com") == 5
    assert not DataModel.objects.exists()


def test_preview_shows_the_warehouse_error(console, sqlite_warehouse):
    page = console.post("/models/preview", form(sqlite_warehouse, query="SELECT nope FROM people"),
                        HTTP_HX_REQUEST="true").content.decode()
    assert 'id="preview-error"' in page and "no such column: nope" in page


def test_save_creates_the_model_and_shows_its_fields(console, sqlite_warehouse, organization):
    response = console.post("/models/new", form(sqlite_warehouse, query="SELECT email, first_name FROM people",
                                                 name="People", identifier="email"))
    model = DataModel.objects.get(organization=organization)
    assert response.status_code == 302 and response["Location"] == f"/models/{model.pk}"
    page = console.get(response["Location"]).content.decode()
    assert "<code>email</code>" in page and "<code>first_name</code>" in page and "identifier" in page
    assert "People" in console.get("/models").content.decode()


def test_save_with_a_bad_query_keeps_the_input_and_says_why(console, sqlite_warehouse):
    response = console.post("/models/new", form(sqlite_warehouse, query="SELECT nope FROM people", name="People"))
    page = response.content.decode()
    assert response.status_code == 200 and not DataModel.objects.exists()
    assert "no such column: nope" in page and "SELECT nope FROM people" in page


def test_save_without_a_name_names_the_field(console, sqlite_warehouse):
    response = console.post("/models/new", form(sqlite_warehouse, query="SELECT email FROM people"))
    assert response.status_code == 200 and not DataModel.objects.exists()
    assert response.context["form"].errors == {"name": ["is required"]}


def test_table_picker_lists_the_warehouse_tables(console, sqlite_warehouse):
    page = console.get(f"/models/tables?connection={sqlite_warehouse.pk}").content.decode()
    assert '<option value="people">' in page


def test_refresh_reports_vanished_columns_and_the_syncs_that_use_them(
        console, organization, sqlite_warehouse, sqlite_file, sync_using):
    model = people_model(organization, sqlite_warehouse)
    sync_using(model, "email", "first_name")
    with sqlite3.connect(sqlite_file) as db:
        db.execute("ALTER TABLE people DROP COLUMN first_name")
    page = console.post(f"/models/{model.pk}/refresh", follow=True).content.decode()
    assert "Gone from the source: first_name." in page
    assert "These syncs map a field that is gone and will fail until they are fixed: People to CRM." in page
    assert "gone from the source</span>" in page


def test_edit_changes_the_definition(console, organization, sqlite_warehouse):
    model = people_model(organization, sqlite_warehouse)
    assert 'value="People"' in console.get(f"/models/{model.pk}/edit").content.decode()
    response = console.post(f"/models/{model.pk}/edit", form(sqlite_warehouse, query="SELECT email FROM people",
                                                            name="Emails"))
    assert response.status_code == 302
    model.refresh_from_db()
    assert model.name == "Emails" and [f.name for f in model.fields.all()] == ["email"]


def test_delete_is_refused_while_a_sync_uses_the_model(console, organization, sqlite_warehouse, sync_using):
    model = people_model(organization, sqlite_warehouse)
    sync = sync_using(model, "email")
    page = console.post(f"/models/{model.pk}/delete", follow=True).content.decode()
    assert "This model is used by the syncs &#x27;People to CRM&#x27;" in page
    assert DataModel.objects.filter(pk=model.pk).exists()
    sync.delete()
    assert console.post(f"/models/{model.pk}/delete")["Location"] == "/models"
    assert not DataModel.objects.filter(pk=model.pk).exists()


def test_other_organizations_models_are_404(organization, sqlite_warehouse):
    model = people_model(organization, sqlite_warehouse)
    stranger = Client()
    stranger.force_login(sign_up("other@example.com", "correct-horse-battery", "Globex"))
    for path in (f"/models/{model.pk}", f"/models/{model.pk}/edit"):
        assert stranger.get(path).status_code == 404
    assert stranger.post(f"/models/{model.pk}/delete").status_code == 404
    assert stranger.post("/models/preview", form(sqlite_warehouse, query="SELECT 1")).context["form"].errors
    assert "People" not in stranger.get("/models").content.decode()
