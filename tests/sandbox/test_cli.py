"""`python -m integrations.sandbox` serves every provider and keeps its state file across restarts."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(port, state):
    process = subprocess.Popen([sys.executable, "-m", "integrations.sandbox", "--port", str(port), "--state", state,
                                "--token-lifetime", "60"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            return process, httpx.get(f"http://127.0.0.1:{port}/_sandbox/").json()
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(process.stdout.read().decode())


def test_command_line_server_keeps_state(tmp_path):
    port, state = free_port(), str(tmp_path / "var" / "sandbox.sqlite3")
    process, index = run(port, state)
    try:
        assert {"salesloft", "gong", "linkedin"} <= set(index["providers"])
        assert index["settings"]["token_lifetime"] == 60
        created = httpx.post(f"http://127.0.0.1:{port}/salesloft/v2/people.json", json={"email_address": "kept@example.com"},
                             headers={"Authorization": "Bearer sandbox-api-key"})
        assert created.status_code == 200
    finally:
        process.terminate()
        process.wait(10)
    process, _ = run(port, state)
    try:
        found = httpx.get(f"http://127.0.0.1:{port}/salesloft/v2/people.json", params={"email_addresses": "kept@example.com"},
                          headers={"Authorization": "Bearer sandbox-api-key"}).json()["data"]
        assert len(found) == 1
    finally:
        process.terminate()
        process.wait(10)
