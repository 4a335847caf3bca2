"""A throwaway PostgreSQL cluster for tests and benchmarks.

Uses the server binaries of Debian's postgresql package (/usr/lib/postgresql/N/bin)
or whatever `pg_config --bindir` names. initdb refuses to run as root, so as root
the cluster runs as the `postgres` user. Durability is off: the data is thrown
away at the end.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


class Unavailable(RuntimeError):
    """No PostgreSQL server binaries here (or no user to run them as)."""


def server_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [
        int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")])
    for path in reversed(candidates):
        if os.access(os.path.join(path, "initdb"), os.X_OK):
            return Path(path)
    if shutil.which("pg_config"):
        path = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        if path and os.access(os.path.join(path, "initdb"), os.X_OK):
            return Path(path)
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    raise Unavailable("PostgreSQL server binaries not found (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def throwaway_postgres(timeout: float = 60.0) -> Iterator[str]:
    """Start a fresh cluster on a free loopback port; yield its URL (trust auth, user postgres)."""
    bindir = server_bindir()
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root and there is no postgres user to run the server as") from None
    root = Path(tempfile.mkdtemp(prefix="throwaway-pg-"))
    data = root / "data"
    as_user = {"user": user.pw_uid, "group": user.pw_gid} if user else {}
    if user:
        os.chown(root, user.pw_uid, user.pw_gid)
    process = None
    try:
        subprocess.run(
            [bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--locale=C", "--no-sync"],
            check=True, capture_output=True, cwd=root, **as_user,
        )
        port = _free_port()
        log = open(root / "server.log", "wb")
        process = subprocess.Popen(
            [bindir / "postgres", "-D", data, "-p", str(port), "-k", root,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=50"],
            stdout=log, stderr=subprocess.STDOUT, cwd=root, **as_user,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError("PostgreSQL exited:\n" + (root / "server.log").read_text(errors="replace"))
            ready = subprocess.run([bindir / "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)])
            if ready.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not start:\n" + (root / "server.log").read_text(errors="replace"))
            time.sleep(0.1)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def scratch_database(url: str, name: str) -> Iterator[str]:
    """A fresh database on an existing server (the URL's role needs CREATEDB); dropped afterwards."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(url)
    params["dbname"] = name
    try:
        yield make_conninfo(**params)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def source_config(url: str) -> dict:
    """The PostgreSQL source configuration (hostname, port, ...) for a libpq URL or conninfo."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    return {
        "hostname": params.get("host") or "localhost",
        "port": int(params.get("port") or 5432),
        "database": params.get("dbname") or params.get("user") or "postgres",
        "username": params.get("user") or "postgres",
        "password": params.get("password") or "",
        "ssl": params.get("sslmode") in ("require", "verify-ca", "verify-full"),
    }
