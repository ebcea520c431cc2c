"""What the daily pipeline's tests share: one small synthetic district (its Campus extract
files, written once per session), a tenant made from it with a `sis` connection, and faithful
local stand-ins for the remote ends of notifications (an HTTP server, an SMTP server)."""

from __future__ import annotations

import csv
import http.server
import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from nexus.identity import register_district
from nexus.integration import sources
from nexus.jobs import set_config
from nexus.store import Store
from nexus.store.tenants import add_tenant
from nexus.synth import generate

TENANT = "halland"
# October 5, 2026: the October cycle (count date September 30) is open, December is not yet.
TODAY = date(2026, 10, 5)
# A day that validates nothing and refreshes nothing: only ingest and map run.
INGEST_ONLY = {"cycles": [], "marts": False}


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("district")
    generate(out, students=80, seed=3, formats=("campus-extract",))
    return out


def make_tenant(
    store: Store, synthetic: Path, extracts: Path | None = None, config: dict | None = None
) -> int:
    """The district's tenant with a `sis` connection to `extracts` (default: its Campus
    extract folder); returns the tenant id."""
    district = json.loads((synthetic / "district.json").read_text())
    with store.engine.begin() as conn:
        tenant = add_tenant(
            conn, TENANT, district["name"], district["county_district_code"], district["nces_id"]
        )
        register_district(conn, tenant)
        sources.add_connection(
            conn,
            tenant.tenant_id,
            "sis",
            "campus-extract",
            str(extracts or synthetic / "campus-extract"),
        )
        if config is not None:
            set_config(conn, tenant.tenant_id, config, "tester")
    return tenant.tenant_id


def student_identifiers(synthetic: Path) -> set[str]:
    """Every student's names and ids in the synthetic files: none may leave in a message."""
    found: set[str] = set()
    with (synthetic / "campus-extract" / "students.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            for column in (
                "student.personID",
                "student.stateID",
                "student.studentNumber",
                "student.lastName",
                "student.firstName",
            ):
                if row[column]:
                    found.add(row[column])
    return found


class Webhook:
    """A local HTTP server that records what is POSTed to it and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[dict] = []
        self.raw: list[str] = []
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                text = self.rfile.read(int(self.headers["Content-Length"])).decode()
                hook.raw.append(text)
                hook.bodies.append(json.loads(text))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/nexus"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Smtp:
    """A minimal SMTP server (RFC 5321's EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that
    keeps each message it is given."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        box = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write((line + "\r\n").encode())

            def handle(self) -> None:
                self.reply("220 localhost test SMTP")
                sender, recipients = None, []
                while True:
                    line = self.rfile.readline().decode().rstrip("\r\n")
                    if not line:
                        return
                    verb = line.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 localhost")
                    elif verb == "MAIL":
                        sender, recipients = line.split(":", 1)[1].strip(), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(line.split(":", 1)[1].strip())
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        lines = []
                        while True:
                            data = self.rfile.readline().decode()
                            if data in (".\r\n", ".\n"):
                                break
                            lines.append(data)
                        box.messages.append(
                            {"from": sender, "to": recipients, "data": "".join(lines)}
                        )
                        self.reply("250 OK queued")
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    yield server
    server.close()
