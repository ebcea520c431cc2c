"""`nexus serve` as a real process: it answers on loopback, and with the embedded DuckDB it owns
the database (a CLI command beside it is refused with a message that names the server)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _nexus(*args: str, env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nexus.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


@pytest.fixture
def served(tmp_path: Path):
    """`nexus serve` on an initialised embedded store with one operator account."""
    env = {**os.environ, "NEXUS_HOME": str(tmp_path / "home")}
    env.pop("NEXUS_DATABASE_URL", None)
    assert _nexus("init", env=env).returncode == 0
    assert _nexus("tenants", "add", "demo", "--name", "Demo R-I", env=env).returncode == 0
    added = _nexus(
        "users",
        "add",
        "oper",
        "--role",
        "operator",
        "--tenant",
        "demo",
        "--password-stdin",
        env=env,
        input="a-long-enough-password\n",
    )
    assert added.returncode == 0, added.stderr
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "nexus.cli", "serve", "--port", str(port), "--no-scheduler"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/sign-in", timeout=1)
            break
        except httpx.HTTPError:
            if server.poll() is not None:
                pytest.fail(f"nexus serve exited: {server.stderr.read()[-2000:]}")
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("nexus serve did not answer within 60 s")
    yield base, env, server
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def test_serve_answers_and_owns_the_embedded_database(served):
    base, env, server = served
    assert "Sign in" in httpx.get(f"{base}/sign-in").text
    assert httpx.get(f"{base}/api/v1/me").status_code == 401
    beside = _nexus("runs", "list", env=env)
    assert beside.returncode == 1
    assert "open for writing by another process" in beside.stderr
    assert "nexus serve" in beside.stderr
    assert "Traceback" not in beside.stderr
