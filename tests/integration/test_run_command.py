"""``cprbroker run`` and ``cprbroker ingest --watch`` as an operator runs them,
on the session's Kafka with topics, groups and folders of each test's own.

- ``cprbroker run`` hosts every role: the API answers /readyz, files dropped
  into the inbox are applied in production-date order, a delta after a gap is
  rejected with its reason once the (short) gap wait is over, the missing
  delta then applies, its events reach the events topic; SIGTERM drains and
  exits 0, leaving no child process.
- ``cprbroker ingest --watch DIR`` alone takes files dropped out of order,
  says so on its ``/readyz`` and ``/status`` (naming files, never a CPR
  number), and exits 0 on SIGTERM.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from cprbroker.adapters.local_kafka_process import kill_when_parent_dies, tail_file
from cprbroker.adapters.state_store import topic_partitions
from cprbroker.core.topics import TopicNames
from cprbroker.synth.writer import SynthSettings, file_name, generate, production_dates

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START = dt.date(2024, 3, 4)
WAIT_S = 300.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def own_env(bootstrap: str) -> dict[str, str]:
    """Environment naming topics, groups and app id of this test's own."""
    run = uuid.uuid4().hex[:8]
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CPRBROKER_PARTITIONS": "2"}
    env["CPRBROKER_TOPIC_PARTITIONS"] = "2"
    for field in dataclasses.fields(TopicNames):
        name = getattr(TopicNames(), field.name)
        env[f"CPRBROKER_TOPIC_{field.name.upper()}"] = f"test.run.{run}.{name}"
    env["CPRBROKER_KNOWN_PNRS_TOPIC"] = f"test.run.{run}.known-pnrs"
    env["CPRBROKER_PROCESSOR_APP_ID"] = f"test-run-{run}"
    env["CPRBROKER_DELIVERY_GROUP"] = f"test-run-{run}"
    env["CPRBROKER_PROCESSOR_COMMIT_INTERVAL"] = "0.5"
    return env


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("series")
    generate(SynthSettings(persons=300, days=3, seed="run-command", out=out, start=START))
    files = {"full": out / file_name(START, "907001")}
    for number, day in enumerate(production_dates(START, 3), start=1):
        files[f"d{number}"] = out / file_name(day, "907001")
    return files


def drop(source: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, folder / f"{source.name}.part")
    (folder / f"{source.name}.part").replace(folder / source.name)


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cprbroker.cli", *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=kill_when_parent_dies,  # noqa: PLW1509  (nothing outlives the test)
        )


def wait_for(
    what: str, check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if process.poll() is not None:
            pytest.fail(
                f"exited with {process.returncode} waiting for {what}\n{tail_file(log, 60)}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {WAIT_S:.0f} s\n{tail_file(log, 60)}")
        time.sleep(0.5)


def stop(process: subprocess.Popen[bytes], log: Path) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(30)
        pytest.fail(f"SIGTERM ignored for 120 s\n{tail_file(log, 60)}")


def status_of(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        status: int = response.status
        return status


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def events_on(bootstrap: str, topic: str) -> int:
    async def count() -> int:
        partitions = await topic_partitions(bootstrap, topic)
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        await consumer.start()
        try:
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            return sum(ends[TopicPartition(tp.topic, tp.partition)] for tp in partitions)
        finally:
            await consumer.stop()

    return asyncio.run(count())


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def test_run_hosts_every_role_and_drains_on_sigterm(
    kafka_bootstrap: str, tmp_path: Path, series: dict[str, Path]
) -> None:
    env = own_env(kafka_bootstrap)
    env["CPRBROKER_INBOX_GAP_WAIT"] = "2"
    env["CPRBROKER_INBOX_SETTLE"] = "0.2"
    inbox, log = tmp_path / "inbox", tmp_path / "run.log"
    args = ["run", "--inbox", str(inbox), "--data-dir", str(tmp_path / "processor")]
    process = start([*args, "--api-port", "0", "--metrics-port", "0"], env, log)
    try:
        wait_for("run.started", lambda: "run.started" in log.read_text(), process, log)
        api = re.search(r"run\.started\s+api=(\S+)", log.read_text())
        assert api is not None
        with urllib.request.urlopen(f"{api.group(1)}/readyz", timeout=30) as answer:  # noqa: S310
            assert answer.status == 200

        drop(series["d3"], inbox)
        drop(series["d2"], inbox)
        drop(series["full"], inbox / "full")
        rejected = inbox / "rejected"
        wait_for("the gap rejections", lambda: len(names(rejected)) == 4, process, log)
        assert names(inbox / "processed") == [series["full"].name]
        for delta in ("d2", "d3"):
            reason = (rejected / f"{series[delta].name}.reason.txt").read_text("utf-8")
            assert reason.startswith("gap\n"), reason

        drop(series["d1"], inbox)
        processed = [series["full"].name, series["d1"].name]
        wait_for("d1 processed", lambda: names(inbox / "processed") == processed, process, log)
        truth = series["d1"].with_name(series["d1"].name + ".truth.jsonl")
        expected = len(truth.read_text(encoding="utf-8").splitlines())
        events = env["CPRBROKER_TOPIC_EVENTS"]
        wait_for(
            f"{expected} events",
            lambda: events_on(kafka_bootstrap, events) >= expected,
            process,
            log,
        )
        assert events_on(kafka_bootstrap, events) == expected
        children = children_of(process.pid)
        code = stop(process, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    text = log.read_text()
    assert code == 0, tail_file(log, 60)
    assert "run.stopped" in text
    assert [pid for pid in children if Path(f"/proc/{pid}").exists()] == []


def test_ingest_watch_takes_files_dropped_out_of_order(
    kafka_bootstrap: str, tmp_path: Path, series: dict[str, Path]
) -> None:
    env = own_env(kafka_bootstrap)
    env["CPRBROKER_INBOX_SETTLE"] = "0.2"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env["CPRBROKER_INBOX_HEALTH_PORT"] = str(port)
    inbox, log = tmp_path / "inbox", tmp_path / "ingest.log"
    drop(series["d2"], inbox)
    drop(series["d1"], inbox)
    drop(series["full"], inbox / "full")
    process = start(["ingest", "--watch", str(inbox)], env, log)
    try:
        expected = sorted(series[n].name for n in ("full", "d1", "d2"))
        wait_for("3 files processed", lambda: names(inbox / "processed") == expected, process, log)
        assert names(inbox / "rejected") == []
        base = f"http://127.0.0.1:{port}"
        assert status_of(f"{base}/healthz") == 200
        assert status_of(f"{base}/readyz") == 200
        with urllib.request.urlopen(f"{base}/status", timeout=5) as response:  # noqa: S310
            body = response.read().decode()
        status = json.loads(body)
        assert (status["processed"], status["rejected"], status["waiting"]) == (3, 0, 0)
        assert [entry["file"] for entry in status["recent"]] == [
            series[n].name for n in ("full", "d1", "d2")
        ]
        assert status["persons_published"] > 0
        assert re.search(r"\d{10}", body) is None, "a CPR number in /status"
        code = stop(process, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    assert code == 0, tail_file(log, 60)
    order = re.findall(r"inbox\.file_processed\s+file=(\S+)", log.read_text())
    assert order == [series[n].name for n in ("full", "d1", "d2")]
