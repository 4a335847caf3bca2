"""A model written in the browser: SQL, preview with Ctrl-Enter, save, its fields."""

import pytest

from console.datamodels.models import DataModel
from tests.datamodels.conftest import sqlite_file, sqlite_warehouse  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_a_model_from_sql_preview_it_save_it_and_see_its_fields(signed_in_page, sqlite_warehouse):  # noqa: F811
    page = signed_in_page
    page.click("nav >> text=Models")
    page.click("text=New model")
    page.select_option("#f-connection", label="Local SQLite (sqlite)")
    page.fill("#f-query", "SELECT email, first_name, score FROM people WHERE score < 3")
    page.press("#f-query", "Control+Enter")

    rows = page.locator("#preview-rows tbody tr")
    rows.first.wait_for()
    assert rows.count() == 3
    assert page.locator("#preview-fields li").all_inner_texts() == ["email string", "first_name string",
                                                                     "score integer"]

    page.fill("#f-name", "Low scores")
    page.fill("#f-identifier", "email")
    page.click("#save-model")
    page.wait_for_url("**/models/*")
    model = DataModel.objects.get()
    assert page.url.endswith(f"/models/{model.pk}")
    assert page.locator("#model-fields tbody td:first-child").all_inner_texts() == ["email", "first_name", "score"]
    assert "identifier" in page.locator("#model-fields tbody tr").first.inner_text()


def test_a_query_the_warehouse_refuses_shows_its_message(signed_in_page, sqlite_warehouse):  # noqa: F811
    page = signed_in_page
    page.goto("/models/new")
    page.select_option("#f-connection", label="Local SQLite (sqlite)")
    page.fill("#f-query", "SELECT nope FROM people")
    page.click("#preview-button")
    assert "no such column: nope" in page.locator("#preview-error").inner_text()
