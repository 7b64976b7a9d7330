"""The ``make run`` path, headless: ``cprbroker demo`` (and ``make run`` itself)
as a subprocess on a small population.

Files flow from the inbox to ``processed/``; the demo receiver verifies and
counts exactly the deliveries the ground truth of the deltas gives for its
catch-all subscription; the API answers on localhost with the printed token;
SIGINT (Ctrl-C) stops everything, and no process is left: no child of the
demo, no JVM of its own Kafka.

Two ways to Kafka: the test session's broker (``KAFKA_BOOTSTRAP_SERVERS``
given: the demo uses topics and groups of its own), and the demo's own broker
started and stopped by ``make run``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from cprbroker.adapters.local_kafka_process import kill_when_parent_dies, tail_file

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PERSONS = 1500
DAYS = 3
WAIT_S = 420.0
STOP_S = 120.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@dataclass
class DemoRun:
    """A running demo: its process, output files and work folder."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path
    workdir: Path
    group: bool

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def diagnostics(self) -> str:
        return (
            f"--- stdout ---\n{tail_file(self.out, 30)}\n--- stderr ---\n{tail_file(self.err, 60)}"
        )

    def statuses(self) -> list[dict[str, str]]:
        """Every ``demo.status``/``demo.final`` line as key-value pairs."""
        return [
            dict(pair.split("=", 1) for pair in line.split()[1:] if "=" in pair)
            for line in self.output().splitlines()
            if line.startswith(("demo.status ", "demo.final "))
        ]

    def banner(self, label: str) -> str:
        found = re.search(rf"^{label}\s+(\S+)", self.output(), re.MULTILINE)
        assert found is not None, f"no {label!r} line\n{self.diagnostics()}"
        return found.group(1)

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the process (its whole group for ``make``); the exit status."""
        if self.group:
            os.killpg(self.process.pid, signal.SIGINT)
        else:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(STOP_S)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the demo ignored SIGINT for {STOP_S:.0f} s\n{self.diagnostics()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            if self.group:
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()
            self.process.wait(30)


def start(command: list[str], workdir: Path, env: dict[str, str], *, group: bool) -> DemoRun:
    out, err = workdir.with_suffix(".out"), workdir.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            # make runs in a group of its own, as in a terminal; the demo alone
            # dies with the test if the test dies.
            start_new_session=group,
            preexec_fn=None if group else kill_when_parent_dies,  # noqa: PLW1509
        )
    return DemoRun(process, out, err, workdir, group)


def demo_args(workdir: Path) -> list[str]:
    return [
        "--plain",
        "--persons",
        str(PERSONS),
        "--days",
        str(DAYS),
        "--workdir",
        str(workdir),
        "--api-port",
        "0",
        "--partitions",
        "2",
    ]


def truth_count(workdir: Path) -> int:
    """Events the deltas must give (the generator's ground truth), all of which
    a catch-all subscription receives."""
    files = sorted((workdir / "synth").glob("*.truth.jsonl"))
    assert len(files) == DAYS
    return sum(len(f.read_text(encoding="utf-8").splitlines()) for f in files)


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def processes_naming(text: str) -> list[int]:
    """Live processes whose command line mentions ``text`` (the demo's folder)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes() and alive(int(cmdline.parent.name)):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def wait_for_deliveries(run: DemoRun) -> dict[str, str]:
    """Poll the status lines until the receiver has every expected delivery."""
    deadline = time.monotonic() + WAIT_S
    expected: int | None = None
    while time.monotonic() < deadline:
        if run.process.poll() is not None:
            pytest.fail(f"the demo exited with {run.process.returncode}\n{run.diagnostics()}")
        if expected is None and len(list((run.workdir / "synth").glob("*.truth.jsonl"))) == DAYS:
            time.sleep(0.5)  # the generator writes the last truth file, then returns
            expected = truth_count(run.workdir)
        statuses = run.statuses()
        if expected is not None and statuses and int(statuses[-1]["received"]) >= expected:
            return statuses[-1]
        time.sleep(1.0)
    pytest.fail(
        f"the receiver did not get {expected} deliveries in {WAIT_S:.0f} s\n{run.diagnostics()}"
    )


def check_flow(run: DemoRun, status: dict[str, str]) -> None:
    """Files processed, deliveries as the ground truth says, the API serving."""
    expected = truth_count(run.workdir)
    assert int(status["events_expected"]) == expected
    assert int(status["received"]) == expected, run.diagnostics()
    assert status["refused"] == "0"
    assert status["dead_lettered"] == "0"
    inbox = run.workdir / "inbox"
    processed = sorted(p.name for p in (inbox / "processed").iterdir())
    extracts = sorted(
        p.name for p in (run.workdir / "synth").iterdir() if not p.name.endswith(".truth.jsonl")
    )
    assert len(extracts) == DAYS + 1
    assert processed == extracts
    assert list((inbox / "rejected").iterdir()) == []
    assert [p for p in inbox.iterdir() if p.is_file()] == []
    assert list((inbox / "full").iterdir()) == []

    api, token = run.banner("API"), run.banner("token")
    assert api.startswith("http://127.0.0.1:")
    request = urllib.request.Request(  # noqa: S310 - a loopback URL the demo printed
        f"{api}/v1/subscriptions", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        document = json.load(response)
    listed = json.dumps(document)
    assert "demo: every event" in listed
    assert run.banner("webhook").removesuffix("/webhook") in listed


def check_nothing_left(run: DemoRun, children: set[int], code: int, ok: set[int]) -> None:
    assert code in ok, f"exit status {code}\n{run.diagnostics()}"
    assert "demo.final" in run.output()
    deadline = time.monotonic() + 30
    while (left := [pid for pid in children if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == [], f"processes left behind: {left}"
    assert processes_naming(str(run.workdir)) == []


def test_demo_on_the_sessions_kafka(kafka_bootstrap: str, tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "CPRBROKER_LOG_LEVEL": "INFO"}
    command = [sys.executable, "-m", "cprbroker.cli", "demo", *demo_args(workdir)]
    run = start(command, workdir, env, group=False)
    try:
        status = wait_for_deliveries(run)
        check_flow(run, status)
        children = descendants(run.process.pid)
        code = run.interrupt()
    finally:
        run.kill()
    check_nothing_left(run, children, code, ok={0})
    # On a shared Kafka the demo kept to topics and groups of its own.
    assert re.search(r"prefixed demo-[0-9a-f]{8}\.", run.output()), run.diagnostics()
    assert not (workdir / "kafka").exists()


def test_make_run_with_its_own_kafka(kafka_bootstrap: str, tmp_path: Path) -> None:
    # kafka_bootstrap is not used: it skips this test (fails it in CI) where no
    # broker can be had, like every other integration test.
    workdir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    args = " ".join(demo_args(workdir))
    run = start(
        ["make", "--no-print-directory", "run", f"DEMO_ARGS={args}"], workdir, env, group=True
    )
    try:
        status = wait_for_deliveries(run)
        check_flow(run, status)
        broker = json.loads((workdir / "kafka" / "broker.json").read_text(encoding="utf-8"))
        children = descendants(run.process.pid)
        assert broker["pid"] in children  # the demo's own JVM, started below make
        code = run.interrupt()
    finally:
        run.kill()
    # make reports the interrupt itself (it re-raises SIGINT once its child exited).
    check_nothing_left(run, children, code, ok={0, -signal.SIGINT, 2, 130})
    assert not alive(broker["pid"])
    assert not (workdir / "kafka" / "broker.json").exists()
    assert "cprbroker demo: stopped" in run.output()
