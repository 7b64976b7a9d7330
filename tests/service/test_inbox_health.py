"""The inbox watcher's /healthz, /readyz and /status on a real server on
loopback, fed by a watcher with the in-memory ingest state and person sink:
ready while Kafka answers, alive until it stalls, and a status that names
files and reasons but no CPR number."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cprbroker.adapters.health import serve_app
from cprbroker.adapters.ingest_state import InMemoryIngestState
from cprbroker.adapters.person_records_sink import InMemoryPersonSink
from cprbroker.core.errors import SettingsError
from cprbroker.ingest.inbox import InboxSettings, InboxStatus, InboxWatcher
from cprbroker.ingest.inbox_health import inbox_health_app, serve_inbox_health
from cprbroker.synth.writer import SynthSettings, file_name, generate

START = dt.date(2024, 3, 4)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Endpoint:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base

    async def status(self, path: str) -> int:
        async with self.http.get(self.base + path) as response:
            return response.status

    async def document(self) -> tuple[str, dict[str, Any]]:
        async with self.http.get(self.base + "/status") as response:
            assert response.status == 200
            text = await response.text()
        return text, await response.json()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> InboxSettings:
    return InboxSettings(
        root=tmp_path / "inbox",
        settle_seconds=0,
        poll_seconds=0.05,
        health_port=0,
        stall_seconds=60,
    )


@pytest.fixture
async def served(
    settings: InboxSettings, clock: Clock
) -> AsyncIterator[tuple[InboxStatus, Endpoint]]:
    status = InboxStatus()
    server = await serve_inbox_health(status, settings, clock)
    assert server is not None
    try:
        async with aiohttp.ClientSession() as http:
            yield status, Endpoint(http, server.url)
    finally:
        await server.stop()


async def test_ready_while_kafka_answers_alive_until_stalled(
    served: tuple[InboxStatus, Endpoint], clock: Clock
) -> None:
    status, endpoint = served
    # Starting: alive, not yet connected to Kafka.
    assert (await endpoint.status("/healthz"), await endpoint.status("/readyz")) == (200, 503)
    status.connected, status.progress_at = True, clock.now
    assert await endpoint.status("/readyz") == 200
    # Kafka away: not ready, but the watcher still scans (retries), so alive.
    status.error = "Kafka at 127.0.0.1:1 unreachable"
    clock.now += 30
    status.progress_at = clock.now
    assert (await endpoint.status("/healthz"), await endpoint.status("/readyz")) == (200, 503)
    _, document = await endpoint.document()
    assert document["kafka_error"] == "Kafka at 127.0.0.1:1 unreachable"
    assert (document["alive"], document["ready"]) == (True, False)
    # No progress for the stall time: /healthz asks for a restart.
    clock.now += 60
    assert await endpoint.status("/healthz") == 503
    _, document = await endpoint.document()
    assert (document["alive"], document["seconds_since_progress"]) == (False, 60.0)


async def test_status_names_files_and_reasons_but_no_cpr_number(
    served: tuple[InboxStatus, Endpoint],
    settings: InboxSettings,
    clock: Clock,
    tmp_path: Path,
) -> None:
    status, endpoint = served
    series = tmp_path / "series"
    generate(SynthSettings(persons=40, days=1, seed="inbox-health", out=series, start=START))
    full = series / file_name(START, "907001")
    settings.full.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(full, settings.full / full.name)
    (settings.root / "broken.txt").write_bytes(b"not a CPR extract\n")
    watcher = InboxWatcher(
        settings,
        state=InMemoryIngestState(),
        sink=InMemoryPersonSink(),
        status=status,
        clock=clock,
    )
    await watcher.scan()
    text, document = await endpoint.document()
    assert (document["processed"], document["rejected"], document["waiting"]) == (1, 1, 0)
    assert document["persons_published"] == 40
    assert document["current"] is None
    recent = {entry["file"]: entry for entry in document["recent"]}
    assert recent[full.name]["published"] is True
    assert recent[full.name]["persons"] == 40
    assert recent["broken.txt"]["rejection"] in {"framing error", "unreadable"}
    assert recent["broken.txt"]["published"] is False
    assert re.search(r"\d{10}", text) is None, "a CPR number in /status"


async def test_no_port_serves_nothing(settings: InboxSettings) -> None:
    unserved = InboxSettings(root=settings.root, health_port=None)
    assert await serve_inbox_health(InboxStatus(), unserved) is None


async def test_a_taken_port_is_named(settings: InboxSettings) -> None:
    first = await serve_app(inbox_health_app(InboxStatus(), settings), "127.0.0.1", 0)
    try:
        port = int(first.url.rsplit(":", 1)[1])
        taken = InboxSettings(root=settings.root, health_port=port)
        with pytest.raises(SettingsError, match=rf"cannot listen on 127\.0\.0\.1:{port}"):
            await serve_inbox_health(InboxStatus(), taken)
    finally:
        await first.stop()


def test_health_settings_come_from_the_environment() -> None:
    settings = InboxSettings().with_environ(
        {
            "CPRBROKER_INBOX_HEALTH_HOST": "0.0.0.0",  # noqa: S104
            "CPRBROKER_INBOX_HEALTH_PORT": "9200",
            "CPRBROKER_INBOX_STALL": "600",
        }
    )
    assert (settings.health_host, settings.health_port, settings.stall_seconds) == (
        "0.0.0.0",  # noqa: S104
        9200,
        600.0,
    )
    assert InboxSettings().with_environ({"CPRBROKER_INBOX_HEALTH_PORT": "off"}).health_port is None
    with pytest.raises(SettingsError, match=r"CPRBROKER_INBOX_HEALTH_PORT.*'nine'"):
        InboxSettings().with_environ({"CPRBROKER_INBOX_HEALTH_PORT": "nine"})
    with pytest.raises(SettingsError, match=r"0\.\.65535, got 70000"):
        InboxSettings().with_environ({"CPRBROKER_INBOX_HEALTH_PORT": "70000"})
    with pytest.raises(SettingsError, match="stall time"):
        InboxSettings(stall_seconds=2, retry_seconds=5)
