"""SIGKILL of the processor in the middle of a file loses no event.

A delta in which every person of a synthetic population has a CPR event is
ingested; the processor (``cprbroker processor`` with a data dir) is killed
with SIGKILL once some of its events are out, and started again on the same
data dir. Every event the core derives for the file (computed here without
Kafka) must be on ``cpr.events``; an event that was produced twice carries
the same id and the same bytes both times.
"""

from __future__ import annotations

import datetime as dt
import signal
from collections import defaultdict
from pathlib import Path

import pytest
from tests.integration.test_pipeline import EventReader, Pipeline, synthesize, wait_consumed

from cprbroker.adapters.event_catalogue import load_catalogue
from cprbroker.core.cpr.parser import parse_extract
from cprbroker.core.events.apply import apply_extract
from cprbroker.core.events.replica import InMemoryReplica

# Codes that each give one event from the code alone (catalogue v1).
_CODES = (b"A13", b"A34", b"A07", b"A73")


def everyone_changes(full: Path, out: Path) -> Path:
    """A delta following ``full`` in which every person has a 099 record."""
    lines = [line for line in full.read_bytes().split(b"\n") if line]
    start, body = lines[0], lines[1:-1]
    produced = dt.date.fromisoformat(start[19:27].decode())
    following = produced + dt.timedelta(days=1)
    header = start[:19] + f"{following:%Y%m%d}".encode() + f"{produced:%Y%m%d}".encode()
    stamp = f"{following:%Y%m%d}0600".encode()
    pnrs = [line[3:13] for line in body if line.startswith(b"001")]
    events = [
        b"099" + pnr + stamp + _CODES[i % len(_CODES)] + b" " * 17 for i, pnr in enumerate(pnrs)
    ]
    data = body + events
    trailer = b"999" + b"9" * 10 + f"{len(data):08d}".encode()
    out.write_bytes(b"\n".join([header, *data, trailer]) + b"\n")
    return out


def expected_ids(full: Path, delta: Path) -> set[str]:
    replica, catalogue = InMemoryReplica(), load_catalogue(None)
    apply_extract(parse_extract(full.read_bytes(), source="full"), replica, catalogue, full=True)
    outcome = apply_extract(parse_extract(delta.read_bytes(), source="delta"), replica, catalogue)
    return {event.id for event in outcome.events}


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_sigkill_mid_file_and_restart_lose_no_event(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    full, _ = synthesize(tmp_path / "synth", persons=6000, days=1, seed=5)
    delta = everyone_changes(full, tmp_path / "everyone.txt")
    expected = expected_ids(full, delta)
    assert len(expected) >= 6000

    pipeline = Pipeline(kafka_bootstrap)
    pipeline.ingest("--full", full)
    pipeline.ingest(delta)
    data_dir = tmp_path / "processor"

    async with EventReader(kafka_bootstrap, pipeline.topics.events) as reader:
        first = pipeline.start_processor(data_dir)
        try:
            await reader.read_until(500, first)
        finally:
            status = await first.stop(signal.SIGKILL)
        assert status == -signal.SIGKILL
        seen_at_kill = len(reader.events)
        assert seen_at_kill < len(expected), "the processor finished before it was killed"

        second = pipeline.start_processor(data_dir)
        try:
            await reader.read_until(len(expected), second)
            await wait_consumed(pipeline, second)
            await reader.settle()
        finally:
            status = await second.stop(signal.SIGTERM)
        assert status == 0, second.tail()

    ids = [read.event["id"] for read in reader.events]
    assert set(ids) == expected
    copies: dict[str, list[object]] = defaultdict(list)
    for read in reader.events:
        copies[read.event["id"]].append(read.event)
    for versions in copies.values():
        assert all(version == versions[0] for version in versions)
