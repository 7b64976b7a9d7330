"""The broker's JVM as an operating-system process: liveness, stopping, its log tail."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Literal

from cprbroker.core.errors import LocalKafkaError

StopResult = Literal["stopped", "killed", "not-running"]


def stop_pid(pid: int, timeout_s: float) -> StopResult:
    """SIGTERM ``pid``, wait up to ``timeout_s``, then SIGKILL; reaps it if it is our child."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return "not-running"
    except PermissionError as exc:
        raise LocalKafkaError(f"not allowed to stop process {pid}: {exc}") from exc
    if wait_gone(pid, timeout_s):
        return "stopped"
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if wait_gone(pid, 10.0):
        return "killed"
    raise LocalKafkaError(f"process {pid} survived SIGKILL")


def kill_when_parent_dies() -> None:
    """Run in a forked child (``preexec_fn``): ask Linux to SIGKILL it when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes  # noqa: PLC0415  (only in the child, only on Linux)

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs; reaps it first if it is a dead child of this process."""
    with contextlib.suppress(ChildProcessError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)  # a dead child of ours stays a zombie otherwise
        if reaped == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_gone(pid: int, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``pid`` to exit; whether it did."""
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def tail_file(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a text file; empty when it cannot be read."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
