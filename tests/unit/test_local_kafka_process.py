"""Stopping a process by PID the way the local Kafka tooling stops its JVM."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from cprbroker.adapters.local_kafka_process import pid_alive, stop_pid, tail_file

# Prints once its SIGTERM handler is installed, then ignores SIGTERM for good.
_STUBBORN = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def test_sigterm_is_enough_for_a_well_behaved_process() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert pid_alive(child.pid)
    assert stop_pid(child.pid, timeout_s=10.0) == "stopped"
    assert not pid_alive(child.pid)
    assert child.poll() is not None


def test_sigkill_follows_when_sigterm_is_ignored() -> None:
    child = subprocess.Popen([sys.executable, "-c", _STUBBORN], stdout=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline() == b"ready\n"
    began = time.monotonic()
    assert stop_pid(child.pid, timeout_s=0.5) == "killed"
    assert time.monotonic() - began < 5.0
    assert child.poll() is not None
    child.stdout.close()


def test_stopping_a_gone_process_reports_not_running() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert stop_pid(child.pid, timeout_s=1.0) == "not-running"


def test_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("".join(f"line {n}\n" for n in range(1000)))
    assert tail_file(log, 3) == "line 997\nline 998\nline 999"
    assert tail_file(tmp_path / "missing.log", 3) == ""
