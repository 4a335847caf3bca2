"""The HTTP API target in the browser: its request options on the connection form and on the
sync's page, the sample requests with header values masked, and a test send of one row."""

import pytest

from console.connections.models import Connection
from console.syncs import services
from integrations.base import MASK
from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    connection_of,
    demo_warehouse,
    e2e,
    e2e_worker,
    http_receiver,
    http_receiver_server,
    model_of,
    warehouse,
    worker_env,
)
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.worker, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "hdr-b81f-browser-never-shown"


def test_configure_the_endpoint_see_the_sample_requests_and_send_one_row(
        e2e, signed_in_page, http_receiver, organization, connection_of, model_of, warehouse):  # noqa: F811
    page = signed_in_page
    page.goto("/connections/new/httpapi")
    form = page.locator("main form")
    form.locator("input[name=name]").fill("Receiver")
    form.locator("input[name=url]").fill(f"{http_receiver.url}/items")
    form.locator("textarea[name=headers]").fill(f"X-Api-Key: {SECRET}\nX-Source: console")
    form.locator("textarea[name=exclude_attributes]").fill("plan")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#connection-health")
    target = Connection.objects.get(name="Receiver")
    assert target.configuration["exclude_attributes"] == ["plan"] and SECRET not in page.content()

    table = warehouse.copy("users", 3)
    ids = [row[0] for row in warehouse.execute(f"SELECT id FROM {table} ORDER BY id")]
    model = model_of(connection_of("snowflake"), f"SELECT id, email, plan FROM {table} ORDER BY id",
                     ["id", "email", "plan"])
    sync = services.create_sync(organization, {
        "name": "Users to the receiver", "mode": "append", "schedule": {"frequency": "manual"},
        "target": {"connection_id": str(target.pk), "object": "endpoint"},
        "fields": [{"source": {"field": name, "model_id": str(model.pk)}, "target": name}
                   for name in ("id", "email", "plan")]})

    page.goto(f"/syncs/{sync.pk}/edit")  # the sync's own options: PUT to each user's URL
    page.fill("#f-config-url", f"{http_receiver.url}/items/{{id}}")
    page.select_option("#f-config-method", "PUT")  # the builder redraws itself, the URL posted with it
    page.wait_for_load_state("networkidle")
    assert page.input_value("#f-config-url") == f"{http_receiver.url}/items/{{id}}"
    page.click("#save-sync")
    page.wait_for_url(f"**/syncs/{sync.pk}")

    samples = page.locator("#sample-requests details.sample-request")
    samples.first.wait_for()
    assert samples.count() == 3
    first = samples.first.inner_text()
    assert f"PUT {http_receiver.url}/items/{ids[0]}" in first
    assert f"X-Api-Key: {MASK}" in first and "plan" not in first and SECRET not in page.content()
    assert http_receiver.requests == []

    page.select_option("#f-test-row", "1")
    page.click("#test-send")
    page.locator("#test-send-answer", has_text="HTTP 200 OK").wait_for()
    assert SECRET not in page.content()
    [received] = http_receiver.requests
    assert (received.method, received.path, received.headers["x-api-key"]) == ("PUT", f"/items/{ids[1]}", SECRET)
    assert set(received.json()) == {"id", "email"}
