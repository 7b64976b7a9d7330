"""``cprbroker clients`` and ``cprbroker audit`` against a real Kafka, with the API in between."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from tests.integration.api_support import api_settings, running

from cprbroker.api.settings import ApiSettings
from cprbroker.cli import main

AKSEL = "0701614011"


@pytest.fixture
def settings(kafka_bootstrap: str) -> ApiSettings:
    return api_settings(kafka_bootstrap)


@pytest.fixture
def environ(settings: ApiSettings, monkeypatch: pytest.MonkeyPatch) -> ApiSettings:
    """The settings' Kafka and topics, also as the environment the CLI reads."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", settings.bootstrap_servers)
    monkeypatch.setenv("CPRBROKER_TOPIC_CLIENTS", settings.topics.clients)
    monkeypatch.setenv("CPRBROKER_TOPIC_AUDIT", settings.topics.audit)
    return settings


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


async def _subscribe(settings: ApiSettings, token: str, event_types: list[str]) -> int:
    async with running(settings) as (_, http):
        headers = {"Authorization": f"Bearer {token}", "X-On-Behalf-Of": "ops-test"}
        document = {
            "name": "CLI",
            "endpoint": {"url": "http://127.0.0.1:9/hook"},
            "filter": {"event_types": event_types, "pnr_list": True},
        }
        response = await http.post("/v1/subscriptions", json=document, headers=headers)
        if response.status == 201:
            url = f"/v1/subscriptions/{(await response.json())['id']}"
            await _put(http, url, headers)
        return response.status


async def _put(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
    response = await http.put(f"{url}/pnrs/{AKSEL}", headers=headers)
    assert response.status == 201


def test_clients_and_audit_commands(
    environ: ApiSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=1)
    status, token, err = run_cli(
        capsys, "clients", "create", "--name", "sagssystem", "--event-types", "cpr.person.moved"
    )
    assert status == 0, err
    token = token.strip()
    assert token.startswith("cprb_")
    assert "shown only now" in err

    status, _, err = run_cli(capsys, "clients", "create", "--name", "sagssystem")
    assert status == 2
    assert "exists" in err

    status, out, _ = run_cli(capsys, "clients", "list")
    listed = [json.loads(line) for line in out.splitlines()]
    assert [(c["name"], c["event_types"], c["revoked_at"]) for c in listed] == [
        ("sagssystem", ["cpr.person.moved"], None)
    ]
    assert token not in out, "the list never shows a token"

    assert asyncio.run(_subscribe(environ, token, ["cpr.person.died"])) == 403
    assert asyncio.run(_subscribe(environ, token, ["cpr.person.moved"])) == 201

    status, out, _ = run_cli(capsys, "audit", "--client", "sagssystem")
    entries = [json.loads(line) for line in out.splitlines()]
    assert [(e["action"], e["result"]) for e in entries] == [
        ("subscription.create", "FORBIDDEN"),
        ("subscription.create", "CREATED"),
        ("pnrs.add", "ADDED"),
    ]
    assert {e["on_behalf_of"] for e in entries} == {"ops-test"}

    status, out, _ = run_cli(capsys, "audit", "--pnr", AKSEL, "--since", started.isoformat())
    assert [json.loads(line)["action"] for line in out.splitlines()] == ["pnrs.add"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    status, out, _ = run_cli(capsys, "audit", "--since", future)
    assert (status, out) == (0, "")
    status, _, err = run_cli(capsys, "audit", "--since", "yesterday")
    assert status == 2
    assert "--since" in err

    status, _, _ = run_cli(capsys, "clients", "revoke", "sagssystem")
    assert status == 0
    assert asyncio.run(_subscribe(environ, token, ["cpr.person.moved"])) == 403
    status, _, err = run_cli(capsys, "clients", "revoke", "nobody")
    assert status == 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_api_command_serves_until_sigterm(environ: ApiSettings, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "CPRBROKER_TOPIC_SUBSCRIPTIONS": environ.topics.subscriptions,
        "CPRBROKER_TOPIC_SUBSCRIPTION_PNRS": environ.topics.subscription_pnrs,
        "CPRBROKER_KNOWN_PNRS_TOPIC": environ.known_pnrs_topic,
    }
    log = tmp_path / "api.log"
    # stderr to a file: a full pipe would block the server.
    with (
        log.open("wb") as stderr,
        subprocess.Popen(
            [sys.executable, "-m", "cprbroker.cli", "api", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
        ) as process,
    ):
        try:
            ready = _wait_ready(port, process)
            assert ready == {"status": "ready"}, log.read_text()
            process.send_signal(signal.SIGTERM)
            out, _ = process.communicate(timeout=60)
            assert process.returncode == 0, log.read_text()
            assert out == b"", "log lines go to stderr"
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=30)


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> object:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
                return json.load(answer)
        except OSError:
            time.sleep(0.5)
    return None
