"""`manage.py runweb`: gunicorn with the worker processes asked for, each serving the console."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from console.system.management.commands.runweb import gunicorn_command
from tests.conftest import ROOT, database_url_for_tests, free_port, wait_for_port

pytestmark = pytest.mark.django_db(transaction=True)


def children(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.add(int(fields["Pid"]))
    return found


def test_gunicorn_serves_the_api_from_two_worker_processes(api_key, redis_url, tmp_path):
    port = free_port()
    env = {"DATABASE_URL": database_url_for_tests(), "REDIS_URL": redis_url, "PATH": "/usr/bin:/bin",
           "VAR_DIR": str(tmp_path)}
    with open(tmp_path / "web.log", "wb") as log:
        server = subprocess.Popen(gunicorn_command(sys.executable, f"127.0.0.1:{port}", 2, 4), cwd=ROOT,
                                  env={**env, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {api_key}"},
                          timeout=60) as client:
            answers = [client.get("/api/syncs") for _ in range(4)]
        assert [answer.status_code for answer in answers] == [200] * 4
        assert answers[0].json()["data"] == []
        assert len(children(server.pid)) == 2, (tmp_path / "web.log").read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
