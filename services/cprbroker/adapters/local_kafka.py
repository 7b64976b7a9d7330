"""Run a local single-node Apache Kafka (KRaft) from the fetched jars.

One JVM is broker and controller, bound to 127.0.0.1 on free ports, with a
bounded heap. Its state lives in one folder (``settings.state_dir``)::

    broker.json          pid, ports, cluster id and paths of the running broker
    ports.json           the ports of the last start, reused by the next one if free
    server.properties    the configuration it runs with
    data/                its log dirs (topics survive a stop and start)
    logs/server.log      the broker's own log (log4j2, rolled)
    logs/jvm.log         the JVM's stdout and stderr

The broker is started detached (its own session), so it outlives the command
that started it; it is stopped by the PID in ``broker.json``. Readiness is a
Kafka metadata request answered with the broker in it, never a sleep.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from cprbroker.adapters.local_kafka_jars import require_jars
from cprbroker.adapters.local_kafka_probe import answers_metadata, choose_free_ports, port_open
from cprbroker.adapters.local_kafka_process import (
    StopResult,
    kill_when_parent_dies,
    pid_alive,
    stop_pid,
    tail_file,
)
from cprbroker.adapters.local_kafka_settings import (
    LocalKafkaSettings,
    jvm_command,
    render_server_properties,
)
from cprbroker.core.errors import LocalKafkaError

STATE_NAME = "broker.json"
PORTS_NAME = "ports.json"  # kept after a stop: the next start reuses them if free
_BROKER_MAIN = "kafka.Kafka"
_STORAGE_TOOL = "kafka.tools.StorageTool"
_TAIL_LINES = 40
_BIND_ATTEMPTS = 3
_TOOL_TIMEOUT_S = 120.0

# JVMs started by this process, kept so their Popen objects are not collected
# while the broker runs (which Python reports as a ResourceWarning).
_LAUNCHED: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True, slots=True)
class BrokerState:
    """A broker this tooling started: what ``stop`` and ``status`` need to find it."""

    pid: int
    port: int
    controller_port: int
    cluster_id: str
    properties: str
    data_dir: str
    server_log: str
    jvm_log: str
    started_at: str

    @property
    def bootstrap_servers(self) -> str:
        """The address clients connect to."""
        return f"127.0.0.1:{self.port}"

    def to_json(self) -> str:
        """The state as stored in ``broker.json``."""
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> BrokerState | None:
        """Parse ``broker.json``; ``None`` when it is damaged or from another layout."""
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    """Whether the broker of a state folder runs and answers Kafka requests."""

    state: BrokerState | None
    running: bool
    answering: bool


def read_state(state_dir: Path) -> BrokerState | None:
    """The recorded broker of ``state_dir``, or ``None`` when nothing is recorded."""
    try:
        return BrokerState.from_json((state_dir / STATE_NAME).read_text(encoding="utf-8"))
    except OSError:
        return None


def broker_status(settings: LocalKafkaSettings, *, probe_timeout_s: float = 5.0) -> BrokerStatus:
    """Whether the recorded broker process is alive, and whether it answers metadata."""
    state = read_state(settings.state_dir)
    if state is None or not _is_broker_process(state):
        return BrokerStatus(state=state, running=False, answering=False)
    answering = answers_metadata(state.bootstrap_servers, timeout_s=probe_timeout_s)
    return BrokerStatus(state=state, running=True, answering=answering)


def start_broker(
    settings: LocalKafkaSettings,
    *,
    die_with_parent: bool = False,
    on_started: Callable[[int], None] | None = None,
) -> BrokerState:
    """Start a broker in ``settings.state_dir`` and return once it answers metadata.

    Formats the storage on first use. Raises :class:`LocalKafkaError` when a
    broker of this state folder already runs, when the jars or Java are
    missing, or when the broker exits or does not answer within
    ``settings.start_timeout_s`` (the JVM is then stopped and the error carries
    the tail of its logs). With ``die_with_parent`` (Linux) the kernel stops
    the JVM when the calling process dies, however it dies; tests use that.
    ``on_started`` gets the PID as soon as the JVM exists, before readiness.
    """
    current = broker_status(settings, probe_timeout_s=2.0)
    if current.running and current.state is not None:
        raise LocalKafkaError(
            f"a broker of {settings.state_dir} already runs (pid {current.state.pid}, "
            f"{current.state.bootstrap_servers}); stop it first"
        )
    require_jars(settings)
    _require_java(settings)
    state_dir = settings.state_dir
    logs_dir = state_dir / "logs"
    data_dir = state_dir / "data"
    logs_dir.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / STATE_NAME).unlink(missing_ok=True)

    previous = _last_ports(state_dir)
    for attempt in range(1, _BIND_ATTEMPTS + 1):
        port, controller_port = _ports(settings, previous)
        properties = state_dir / "server.properties"
        properties.write_text(
            render_server_properties(port=port, controller_port=controller_port, data_dir=data_dir),
            encoding="utf-8",
        )
        cluster_id = _format_storage(settings, properties, data_dir, logs_dir)
        process = _launch(settings, properties, logs_dir, die_with_parent=die_with_parent)
        if on_started is not None:
            on_started(process.pid)
        state = BrokerState(
            pid=process.pid,
            port=port,
            controller_port=controller_port,
            cluster_id=cluster_id,
            properties=str(properties),
            data_dir=str(data_dir),
            server_log=str(logs_dir / "server.log"),
            jvm_log=str(logs_dir / "jvm.log"),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        (state_dir / STATE_NAME).write_text(state.to_json(), encoding="utf-8")
        (state_dir / PORTS_NAME).write_text(
            json.dumps({"port": port, "controller_port": controller_port}), encoding="utf-8"
        )
        failure = _wait_until_ready(settings, state, process)
        if failure is None:
            _LAUNCHED[process.pid] = process
            return state
        _terminate(process, settings.stop_timeout_s)
        (state_dir / STATE_NAME).unlink(missing_ok=True)
        lost_port_race = "Address already in use" in _log_tail(state)
        if not (lost_port_race and attempt < _BIND_ATTEMPTS and settings.port == 0):
            raise LocalKafkaError(f"{failure}\n{_describe_logs(state)}")
        previous = None  # another process took a chosen port: choose again
    raise AssertionError("unreachable: the loop returns or raises")


def stop_broker(settings: LocalKafkaSettings) -> StopResult:
    """Stop the recorded broker by PID: SIGTERM, then SIGKILL after ``stop_timeout_s``.

    Returns ``"not-running"`` when no broker of this state folder runs (a stale
    record is removed). Raises :class:`LocalKafkaError` when the process
    survives SIGKILL or belongs to another user.
    """
    state_file = settings.state_dir / STATE_NAME
    state = read_state(settings.state_dir)
    if state is None or not _is_broker_process(state):
        state_file.unlink(missing_ok=True)
        return "not-running"
    result = stop_pid(state.pid, settings.stop_timeout_s)
    launched = _LAUNCHED.pop(state.pid, None)
    if launched is not None:
        launched.poll()  # stop_pid reaped it; let the Popen object know
    state_file.unlink(missing_ok=True)
    return result


def _last_ports(state_dir: Path) -> tuple[int, int] | None:
    """The ports the previous broker of ``state_dir`` used, if recorded."""
    try:
        data = json.loads((state_dir / PORTS_NAME).read_text(encoding="utf-8"))
        return (int(data["port"]), int(data["controller_port"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _ports(settings: LocalKafkaSettings, previous: tuple[int, int] | None) -> tuple[int, int]:
    wanted = (
        settings.port or (previous[0] if previous else 0),
        settings.controller_port or (previous[1] if previous else 0),
    )
    if all(wanted) and wanted[0] != wanted[1] and not any(port_open(p) for p in wanted):
        return wanted
    if settings.port and port_open(settings.port):
        raise LocalKafkaError(f"port {settings.port} on 127.0.0.1 is taken")
    chosen = choose_free_ports(2, exclude={settings.port})
    return (settings.port or chosen[0], settings.controller_port or chosen[1])


def _require_java(settings: LocalKafkaSettings) -> None:
    try:
        completed = subprocess.run(
            [settings.java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LocalKafkaError(
            f"cannot run Java ({settings.java!r}): {exc}; Kafka 4 needs Java 17 or newer "
            "(set JAVA_HOME or CPRBROKER_KAFKA_JAVA)"
        ) from exc
    if completed.returncode != 0:
        raise LocalKafkaError(f"{settings.java} -version failed: {completed.stderr.strip()}")


def _run_tool(settings: LocalKafkaSettings, logs_dir: Path, arguments: list[str]) -> str:
    command = jvm_command(
        settings,
        logs_dir=logs_dir,
        main_class=_STORAGE_TOOL,
        arguments=arguments,
        short_lived=True,
    )
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=_TOOL_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise LocalKafkaError(
            f"Kafka's StorageTool {arguments[0]} did not finish in {_TOOL_TIMEOUT_S:.0f} s"
        ) from exc
    except OSError as exc:
        raise LocalKafkaError(f"Kafka's StorageTool {arguments[0]} did not run: {exc}") from exc
    if completed.returncode != 0:
        raise LocalKafkaError(
            f"Kafka's StorageTool {arguments[0]} failed (exit {completed.returncode}):\n"
            f"{completed.stdout}{completed.stderr}".rstrip()
        )
    return completed.stdout


def _format_storage(
    settings: LocalKafkaSettings, properties: Path, data_dir: Path, logs_dir: Path
) -> str:
    """Format ``data_dir`` once; return the cluster id it is formatted with."""
    existing = _formatted_cluster_id(data_dir)
    if existing is not None:
        return existing
    cluster_id = _run_tool(settings, logs_dir, ["random-uuid"]).strip().splitlines()[-1]
    _run_tool(
        settings,
        logs_dir,
        ["format", "-t", cluster_id, "-c", str(properties), "--ignore-formatted"],
    )
    return _formatted_cluster_id(data_dir) or cluster_id


def _formatted_cluster_id(data_dir: Path) -> str | None:
    try:
        text = (data_dir / "meta.properties").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "cluster.id" and value.strip():
            return value.strip()
    return None


def _launch(
    settings: LocalKafkaSettings, properties: Path, logs_dir: Path, *, die_with_parent: bool
) -> subprocess.Popen[bytes]:
    command = jvm_command(
        settings, logs_dir=logs_dir, main_class=_BROKER_MAIN, arguments=[str(properties)]
    )
    with (logs_dir / "jvm.log").open("wb") as jvm_log:
        try:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=jvm_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the starting terminal must not reach it
                preexec_fn=kill_when_parent_dies if die_with_parent else None,  # noqa: PLW1509
            )
        except OSError as exc:
            raise LocalKafkaError(f"cannot start the Kafka JVM ({settings.java}): {exc}") from exc


def _wait_until_ready(
    settings: LocalKafkaSettings, state: BrokerState, process: subprocess.Popen[bytes]
) -> str | None:
    """``None`` once the broker answers metadata; else why it did not."""
    deadline = time.monotonic() + settings.start_timeout_s
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            return f"the Kafka broker exited with status {code} while starting"
        remaining = deadline - time.monotonic()
        if port_open(state.port) and answers_metadata(
            state.bootstrap_servers, timeout_s=max(0.5, min(5.0, remaining))
        ):
            return None
        time.sleep(0.2)
    return (
        f"the Kafka broker (pid {state.pid}) did not answer a metadata request on "
        f"{state.bootstrap_servers} within {settings.start_timeout_s:.0f} s"
    )


def _terminate(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    if process.poll() is None:
        stop_pid(process.pid, timeout_s)
    process.poll()  # records the exit so the Popen object knows it is gone


def _is_broker_process(state: BrokerState) -> bool:
    """Whether ``state.pid`` is alive and is the JVM running this state's properties."""
    if not pid_alive(state.pid):
        return False
    if not Path("/proc/self").exists():
        return True  # no procfs (macOS): trust the live PID
    try:
        cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return _BROKER_MAIN.encode() in cmdline and state.properties.encode() in cmdline


def _log_tail(state: BrokerState) -> str:
    return "\n".join(
        tail_file(Path(path), _TAIL_LINES) for path in (state.jvm_log, state.server_log)
    )


# The broker dumps its whole configuration as "\tkey = value" lines at startup:
# noise in an error message, unlike the "\tat ..." lines of a stack trace.
_CONFIG_DUMP_LINE = re.compile(r"^\t[\w.-]+ = ")


def _describe_logs(state: BrokerState) -> str:
    parts = []
    for path in (state.jvm_log, state.server_log):
        lines = tail_file(Path(path), 400).splitlines()
        tail = "\n".join(
            [line for line in lines if not _CONFIG_DUMP_LINE.match(line)][-_TAIL_LINES:]
        )
        if tail:
            parts.append(f"--- last lines of {path} ---\n{tail}")
    return "\n".join(parts) or f"(the logs in {Path(state.server_log).parent} are empty)"
