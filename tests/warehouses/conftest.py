"""Real warehouses for the source tests: fakesnow, PostgreSQL, SQLite, MariaDB.

- fakesnow: the demo warehouse runner in a child process, seeded with ROWS rows.
- PostgreSQL: a scratch database on TEST_POSTGRES_URL or DATABASE_URL when one
  of them is a PostgreSQL URL (its role needs CREATEDB), otherwise a throwaway
  cluster started from Debian's postgresql binaries; skipped if neither exists.
- MariaDB: a throwaway server from Debian's mariadb-server when both it and
  PyMySQL are installed; skipped otherwise.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from integrations.demo import warehouse as demo
from integrations.demo.pgcluster import Unavailable, scratch_database, source_config, throwaway_postgres
from tests.conftest import allow_egress

ROWS = 2000  # rows per demo table
BULK_ROWS = 200_000  # rows in bulk.users, for the bounded-memory test

SEED_CONFIG = {"account": "uc193736182", "username": "user", "password": "secret", "dbname": "database"}


@pytest.fixture(scope="session")
def fakesnow_endpoint(tmp_path_factory):
    with demo.running_fakesnow(tmp_path_factory.mktemp("fakesnow"), rows=ROWS) as endpoint:
        allow_egress(endpoint)
        yield endpoint


def _postgres_server_url() -> str | None:
    for name in ("TEST_POSTGRES_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return None


@pytest.fixture(scope="session")
def postgres_url():
    """A database holding the demo tables (ROWS rows) and bulk.users (BULK_ROWS rows)."""
    with contextlib.ExitStack() as stack:
        server = _postgres_server_url()
        if server:
            url = stack.enter_context(scratch_database(server, f"warehouse_tests_{os.getpid()}"))
        else:
            try:
                url = stack.enter_context(throwaway_postgres())
            except Unavailable as exc:
                if os.environ.get("CI"):
                    raise
                pytest.skip(f"no PostgreSQL: set TEST_POSTGRES_URL, or {exc}")
        config = source_config(url)
        allow_egress(f"{config['hostname']}:{config['port']}")
        demo.load_postgres(url, ROWS)
        demo.load_postgres(url, BULK_ROWS, tables=("users",), schema="bulk")
        yield url


@pytest.fixture(scope="session")
def postgres_config(postgres_url):
    return source_config(postgres_url)


@pytest.fixture(scope="session")
def sqlite_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "demo.sqlite3"
    demo.load_sqlite(path, ROWS)
    return str(path)


# ---- MariaDB --------------------------------------------------------------------------

MYSQL_PASSWORD = "maria-Secret-4711"


def _mariadb_binaries():
    server = shutil.which("mariadbd") or (os.path.exists("/usr/sbin/mariadbd") and "/usr/sbin/mariadbd")
    install = shutil.which("mariadb-install-db")
    return server, install


@pytest.fixture(scope="session")
def mysql_config():
    try:
        import pymysql
    except ImportError:
        pytest.skip("PyMySQL is not installed (it is not in requirements.txt)")
    server, install = _mariadb_binaries()
    if not (server and install):
        pytest.skip("MariaDB server not installed (apt-get install mariadb-server)")

    as_user = {}
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("mysql")
        except KeyError:
            pytest.skip("running as root and there is no mysql user to run MariaDB as")
        as_user = {"user": account.pw_uid, "group": account.pw_gid}
    root = Path(tempfile.mkdtemp(prefix="throwaway-mariadb-"))
    if as_user:
        os.chown(root, as_user["user"], as_user["group"])
    user_name = pwd.getpwuid(as_user.get("user", os.geteuid())).pw_name
    process = None
    try:
        subprocess.run(
            [install, "--no-defaults", f"--datadir={root / 'data'}", f"--user={user_name}",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True, **as_user,
        )
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        process = subprocess.Popen(
            [server, "--no-defaults", f"--datadir={root / 'data'}", f"--socket={root / 'sock'}",
             f"--port={port}", "--bind-address=127.0.0.1", f"--user={user_name}",
             f"--log-error={root / 'error.log'}", f"--pid-file={root / 'pid'}", "--skip-log-bin",
             "--innodb-buffer-pool-size=64M"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **as_user,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                admin = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
                break
            except pymysql.err.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("MariaDB did not start:\n" + (root / "error.log").read_text(errors="replace"))
                time.sleep(0.2)
        with admin.cursor() as cur:
            cur.execute("CREATE DATABASE demo")
            cur.execute("CREATE USER 'tester'@'%%' IDENTIFIED BY %s", (MYSQL_PASSWORD,))
            cur.execute("GRANT ALL ON demo.* TO 'tester'@'%'")
        admin.close()
        config = {"hostname": "127.0.0.1", "port": port, "database": "demo", "username": "tester",
                  "password": MYSQL_PASSWORD}
        allow_egress(f"127.0.0.1:{port}")
        demo.load_mysql({"host": "127.0.0.1", "port": port, "user": "tester", "password": MYSQL_PASSWORD,
                         "database": "demo"}, ROWS)
        yield config
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def closed_port(settings) -> int:
    """A loopback port nothing listens on, which the egress policy lets the test try."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.EGRESS_ALLOW = [*settings.EGRESS_ALLOW, f"127.0.0.1:{port}"]
    return port
