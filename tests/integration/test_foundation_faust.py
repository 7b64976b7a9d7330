"""The foundation works on a real Kafka: a faust Table survives its worker.

A worker counts words into a Table, then goes away (SIGTERM, or SIGKILL with
no chance to clean up). A new worker with no local state of its own (an empty
data dir, or the in-memory store) must rebuild the counts from the table's
changelog topic and continue from the committed input offset: the next
counts it publishes continue the old ones, nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from cprbroker.adapters.local_kafka_process import kill_when_parent_dies, tail_file

if TYPE_CHECKING:
    from tests.conftest import TopicFactory

PROJECT_ROOT = Path(__file__).resolve().parents[2]
APP_MODULE = "tests.integration.foundation_faust_app"
WAIT_S = 120.0


@dataclass
class FaustWorker:
    """One ``faust worker`` subprocess with its own data dir and log file."""

    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, env: dict[str, str], data_dir: Path) -> FaustWorker:
        data_dir.mkdir(parents=True)
        log = data_dir.with_suffix(".log")
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", APP_MODULE, "worker", "--without-web", "-l", "info"],
                cwd=PROJECT_ROOT,
                env={**os.environ, **env, "FOUNDATION_DATA_DIR": str(data_dir)},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=kill_when_parent_dies,  # noqa: PLW1509  (no worker outlives the test)
            )
        return cls(process=process, log=log)

    def check_alive(self) -> None:
        code = self.process.poll()
        assert code is None, f"faust worker exited with {code}:\n{tail_file(self.log, 60)}"

    async def stop(self, how: signal.Signals) -> None:
        if self.process.poll() is None:
            self.process.send_signal(how)
        try:
            await asyncio.to_thread(self.process.wait, 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait, 10)
            pytest.fail(f"faust worker ignored {how.name} for 30 s:\n{tail_file(self.log, 60)}")


async def read_counts(
    watcher: AIOKafkaConsumer, worker: FaustWorker, until: dict[str, int]
) -> list[tuple[str, int]]:
    """Counts published from now until every word in ``until`` reached its value."""
    seen: list[tuple[str, int]] = []
    latest: dict[str, int] = {}
    deadline = time.monotonic() + WAIT_S
    while any(latest.get(word) != n for word, n in until.items()):
        worker.check_alive()
        assert time.monotonic() < deadline, (
            f"counts {latest} never reached {until}:\n{tail_file(worker.log, 60)}"
        )
        for messages in (await watcher.getmany(timeout_ms=500)).values():
            for message in messages:
                word, count = message.key.decode(), int(message.value)
                seen.append((word, count))
                latest[word] = count
    return seen


async def wait_for_offsets(
    bootstrap: str,
    worker: FaustWorker,
    group: str,
    *,
    committed: dict[TopicPartition, int],
    written: dict[TopicPartition, int],
) -> None:
    """Wait until ``group`` committed ``committed`` and topics hold ``written`` records."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await probe.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            worker.check_alive()
            offsets = await admin.list_consumer_group_offsets(group)
            now_committed = {tp: offsets[tp].offset for tp in committed if tp in offsets}
            now_written = await probe.end_offsets(list(written))
            if now_committed == committed and now_written == written:
                return
            assert time.monotonic() < deadline, (
                f"committed {now_committed}, written {now_written}; "
                f"wanted {committed} and {written}"
            )
            await asyncio.sleep(0.2)
    finally:
        await probe.stop()
        await admin.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("store", "stop_signal"),
    [("rocksdb://", signal.SIGTERM), ("memory://", signal.SIGKILL)],
    ids=["rocksdb-fresh-datadir-sigterm", "memory-store-sigkill"],
)
async def test_faust_table_is_recovered_from_its_changelog(
    kafka_bootstrap: str,
    new_topic: TopicFactory,
    tmp_path: Path,
    store: str,
    stop_signal: signal.Signals,
) -> None:
    words_topic = await new_topic("words")
    counts_topic = await new_topic("counts")
    app_id = f"foundation-counter-{uuid.uuid4().hex[:8]}"
    env = {
        "FOUNDATION_APP_ID": app_id,
        "FOUNDATION_BOOTSTRAP": kafka_bootstrap,
        "FOUNDATION_STORE": store,
        "FOUNDATION_SOURCE_TOPIC": words_topic,
        "FOUNDATION_COUNTS_TOPIC": counts_topic,
    }
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    watcher = AIOKafkaConsumer(
        counts_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await producer.start()
    await watcher.start()

    async def produce(words: list[str]) -> None:
        for word in words:
            await producer.send_and_wait(words_topic, b"", key=word.encode())

    try:
        began = time.monotonic()

        def phase(name: str) -> None:  # shown with the output of a failed run
            print(f"{time.monotonic() - began:6.1f} s  {name}")

        first = FaustWorker.start(env, tmp_path / "worker-1")
        try:
            await produce(["a", "b", "a", "c", "a", "b"])
            seen = await read_counts(watcher, first, until={"a": 3, "b": 2, "c": 1})
            phase("worker 1 counted")
            assert seen == [("a", 1), ("b", 1), ("a", 2), ("c", 1), ("a", 3), ("b", 2)]
            # Only what is committed and in the changelog may be relied upon.
            await wait_for_offsets(
                kafka_bootstrap,
                first,
                app_id,
                committed={TopicPartition(words_topic, 0): 6},
                written={TopicPartition(f"{app_id}-counts-changelog", 0): 6},
            )
            phase("worker 1 committed")
        finally:
            await first.stop(stop_signal)
        if stop_signal is signal.SIGKILL:
            assert first.process.returncode == -signal.SIGKILL

        phase(f"worker 1 stopped by {stop_signal.name}")
        second = FaustWorker.start(env, tmp_path / "worker-2")  # no local state at all
        try:
            await produce(["a", "c", "d"])
            seen = await read_counts(watcher, second, until={"a": 4, "c": 2, "d": 1})
            phase("worker 2 counted")
        finally:
            await second.stop(signal.SIGTERM)
        phase("worker 2 stopped")
        # Continuing counts: recovered (not 1, 1, 1) and nothing replayed (no a=4 twice).
        assert seen == [("a", 4), ("c", 2), ("d", 1)], tail_file(second.log, 60)
    finally:
        await watcher.stop()
        await producer.stop()
