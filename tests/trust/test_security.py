"""Pages under a strict Content-Security-Policy, CSRF on every console form, production cookies."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from console.engine.models import Execution, ExecutionStatus
from console.syncs.models import Sync
from console.connections.models import Connection
from tests.engine.conftest import data_model, make_sync, warehouse  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def console_routes():
    """(route, callback) of every URL outside /api/ and /static/."""

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p.callback

    return [(route, view) for route, view in walk(get_resolver().url_patterns, "/")
            if not route.startswith(("/api/", "/^static"))]


def fill(route: str, values: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "x"), route)


@pytest.fixture
def target_connection(organization):
    """A real target type: console pages describe the target (the engine tests' fake one has no page)."""
    return Connection.objects.create(organization=organization, name="CRM", type="salesloft")


@pytest.fixture
def path_values(make_sync, org_admin):
    sync = make_sync()
    execution = Execution.objects.create(sync=sync, status=ExecutionStatus.COMPLETED)
    return {"sync_id": str(sync.pk), "execution_id": str(execution.pk), "connection_id": str(sync.model.connection_id),
            "id": str(sync.pk), "type_id": "postgresql", "key_id": "00000000-0000-0000-0000-000000000000",
            "token": "x"}


@pytest.mark.django_db
def test_every_console_page_sends_the_content_security_policy(console, path_values):
    routes = console_routes()
    assert len(routes) > 20
    for route, _ in routes:
        url = fill(route, path_values)
        for client in (console, Client()):
            response = client.get(url)
            policy = response.headers.get("Content-Security-Policy", "")
            assert "default-src 'self'" in policy and "script-src 'self'" in policy, (url, response.status_code)
            assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.django_db
def test_the_api_and_its_errors_send_it_too(api):
    for url in ("/api/me", "/api/syncs/00000000-0000-0000-0000-000000000000", "/api/openapi.json"):
        assert "default-src 'self'" in api.get(url).headers["Content-Security-Policy"], url


def test_templates_hold_no_inline_script_handler_or_style():
    """What the policy would refuse: inline <script> bodies, on*= handlers, javascript: URLs,
    eval'd htmx attributes (hx-on, trigger filters, js: values), style blocks and attributes."""
    forbidden = {
        "inline script": re.compile(r"<script\b[^>]*>\s*[^<\s]", re.I),
        "event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
        "javascript: URL": re.compile(r"javascript:", re.I),
        "hx-on": re.compile(r"\bhx-on"),
        "htmx trigger filter": re.compile(r"hx-trigger=\"[^\"]*\w\["),
        "evaluated htmx value": re.compile(r"hx-va(?:ls|rs)=['\"]\s*js:"),
        "style block": re.compile(r"<style\b", re.I),
        "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    }
    assert len(TEMPLATES) > 20
    found = [f"{path.relative_to(ROOT)}: {name}" for path in TEMPLATES for name, pattern in forbidden.items()
             if pattern.search(path.read_text())]
    assert found == []


def test_the_checks_catch_what_they_look_for(tmp_path):
    """The template patterns above are not vacuous."""
    samples = ['<script>alert(1)</script>', '<select onchange="go()">', '<div style="color:red">',
               '<div hx-trigger="change[target.matches(\'x\')]">']
    inline = re.compile(r"<script\b[^>]*>\s*[^<\s]", re.I)
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
    style = re.compile(r"<[^>]*\sstyle\s*=", re.I)
    trigger = re.compile(r"hx-trigger=\"[^\"]*\w\[")
    assert [bool(p.search(s)) for p, s in zip((inline, handler, style, trigger), samples)] == [True] * 4
    assert not inline.search('<script src="/static/js/console.js" defer></script>')


def test_no_console_view_is_exempt_from_csrf():
    exempt = [route for route, view in console_routes() if getattr(view, "csrf_exempt", False)]
    assert exempt == []


@pytest.mark.django_db
def test_a_console_post_without_the_token_is_refused(org_admin, make_sync):
    sync = make_sync()
    client = Client(enforce_csrf_checks=True)
    client.force_login(org_admin)
    response = client.post(f"/syncs/{sync.pk}/delete")
    assert response.status_code == 403
    assert Sync.objects.filter(pk=sync.pk).exists()
    page = client.get(f"/syncs/{sync.pk}").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(f"/syncs/{sync.pk}/delete", {"csrfmiddlewaretoken": token}).status_code in (302, 303)
    assert not Sync.objects.filter(pk=sync.pk).exists()


def settings_with(env: dict) -> dict:
    """The security settings as a fresh process with this environment reads them."""
    names = ["DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
             "CSRF_COOKIE_HTTPONLY", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
             "SECURE_SSL_REDIRECT", "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS"]
    code = ("import json, django; from django.conf import settings; django.setup(); "
            f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))")
    clean = {k: v for k, v in os.environ.items() if k not in ("SECURE_COOKIES", "SECURE_SSL_REDIRECT", "DEBUG")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**clean, "DJANGO_SETTINGS_MODULE": "console.settings", **env})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_settings_mark_cookies_secure_and_send_hsts():
    production = settings_with({"SECURE_COOKIES": "1"})
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SECURE_HSTS_SECONDS"] >= 31_536_000 and production["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert production["SESSION_COOKIE_HTTPONLY"] and production["CSRF_COOKIE_HTTPONLY"]
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] and production["X_FRAME_OPTIONS"] == "DENY"
    assert settings_with({"SECURE_COOKIES": "1", "SECURE_SSL_REDIRECT": "1"})["SECURE_SSL_REDIRECT"]
    local = settings_with({})  # `make run` on http://127.0.0.1: cookies must still work over HTTP
    assert not local["SESSION_COOKIE_SECURE"] and local["SECURE_HSTS_SECONDS"] == 0


@pytest.mark.django_db
def test_hsts_is_sent_on_https_when_configured(settings, client):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/signin", secure=True)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/signin").headers


@pytest.mark.browser
def test_pages_work_under_the_policy_without_violations(signed_in_page, make_sync):
    """Chromium enforces the header: no refused script or style, and the behaviour moved out
    of inline handlers (confirm before delete) still runs."""
    page = signed_in_page
    sync = make_sync()
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused" in message.text else None)
    for url in ("/", "/connections", "/connections/new", "/syncs", f"/syncs/{sync.pk}", "/syncs/new",
                f"/syncs/{sync.pk}/runs", "/settings", "/status", "/bulk"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    assert violations == []

    page.goto(f"/syncs/{sync.pk}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button.danger")
    assert Sync.objects.filter(pk=sync.pk).exists(), "dismissing the confirmation keeps the sync"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button.danger")
    page.wait_for_url("**/syncs")
    assert not Sync.objects.filter(pk=sync.pk).exists()


@pytest.mark.browser
def test_the_api_docs_render_under_the_policy(page):
    """/api/docs serves Swagger UI from the console's own static files, without inline script."""
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused" in message.text else None)
    page.goto("/api/docs")
    page.wait_for_selector(".opblock-summary-path[data-path=\"/api/syncs\"]")
    assert page.locator(".opblock").count() > 50
    assert violations == []
