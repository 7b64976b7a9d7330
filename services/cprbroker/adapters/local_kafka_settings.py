"""Settings and configuration text of the local single-node Kafka (KRaft).

Everything here is pure: the settings object, the ``server.properties`` the
broker runs with, and the JVM command line. The runner in
:mod:`cprbroker.adapters.local_kafka` does the I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cprbroker.core.errors import LocalKafkaError

POM_RELATIVE = Path("deploy/kafka/pom.xml")
LOG4J_RELATIVE = Path("deploy/kafka/log4j2.properties")
DEFAULT_JARS_RELATIVE = Path(".cache/kafka/libs")
DEFAULT_STATE_RELATIVE = Path(".cache/kafka/run")

# The environment variables the CLI and the test fixtures read (and nothing deeper).
ENV_PREFIX = "CPRBROKER_KAFKA_"

_TOOL_HEAP_MB = 128
_BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


@dataclass(frozen=True, slots=True)
class LocalKafkaSettings:
    """Where the local broker's jars and state live and how its JVM runs.

    ``port`` and ``controller_port`` of 0 mean: pick free ports (preferring the
    ones the previous run in the same state folder used, so an exported
    bootstrap address stays valid across restarts). ``quick_jit`` runs the
    broker on the quick JIT tier only: it starts in about half the time on a
    busy machine, at the cost of peak throughput (tests want the former,
    benchmarks the latter).
    """

    project_root: Path
    jars_dir: Path
    state_dir: Path
    java: str = "java"
    mvn: str = "mvn"
    heap_mb: int = 512
    quick_jit: bool = False
    port: int = 0
    controller_port: int = 0
    start_timeout_s: float = 90.0
    stop_timeout_s: float = 30.0
    fetch_timeout_s: float = 900.0

    @property
    def pom(self) -> Path:
        """The Maven project that names the broker artifact and its logging binding."""
        return self.project_root / POM_RELATIVE

    @property
    def log4j_config(self) -> Path:
        """The broker's log4j2 configuration."""
        return self.project_root / LOG4J_RELATIVE

    @classmethod
    def for_project(cls, project_root: Path) -> LocalKafkaSettings:
        """Defaults for a checkout at ``project_root``: jars and state under ``.cache/kafka``."""
        return cls(
            project_root=project_root,
            jars_dir=project_root / DEFAULT_JARS_RELATIVE,
            state_dir=project_root / DEFAULT_STATE_RELATIVE,
        )

    def with_environ(self, environ: Mapping[str, str]) -> LocalKafkaSettings:
        """These settings overridden by ``CPRBROKER_KAFKA_*`` entries of ``environ``.

        Understood: ``JARS_DIR``, ``STATE_DIR``, ``JAVA`` (else ``$JAVA_HOME/bin/java``),
        ``MVN``, ``HEAP_MB``, ``PORT``, ``START_TIMEOUT``, ``STOP_TIMEOUT`` (seconds),
        ``QUICK_JIT`` (``1``/``true``/``yes`` or ``0``/``false``/``no``).
        A malformed number raises :class:`LocalKafkaError` naming the variable.
        """
        changes: dict[str, object] = {}

        def text(name: str) -> str | None:
            value = environ.get(ENV_PREFIX + name, "").strip()
            return value or None

        def number(name: str, kind: type[int] | type[float]) -> int | float | None:
            value = text(name)
            if value is None:
                return None
            try:
                parsed = kind(value)
            except ValueError:
                parsed = -1
            if parsed < 0:
                raise LocalKafkaError(
                    f"{ENV_PREFIX}{name}={value!r} is not a non-negative {kind.__name__}"
                )
            return parsed

        if (jars := text("JARS_DIR")) is not None:
            changes["jars_dir"] = Path(jars)
        if (state := text("STATE_DIR")) is not None:
            changes["state_dir"] = Path(state)
        if (java := text("JAVA")) is not None:
            changes["java"] = java
        elif java_home := environ.get("JAVA_HOME", "").strip():
            changes["java"] = str(Path(java_home) / "bin" / "java")
        if (mvn := text("MVN")) is not None:
            changes["mvn"] = mvn
        if (quick := text("QUICK_JIT")) is not None:
            if quick.lower() not in _BOOLEANS:
                raise LocalKafkaError(f"{ENV_PREFIX}QUICK_JIT={quick!r} is not a yes/no value")
            changes["quick_jit"] = _BOOLEANS[quick.lower()]
        for name, field, kind in (
            ("HEAP_MB", "heap_mb", int),
            ("PORT", "port", int),
            ("START_TIMEOUT", "start_timeout_s", float),
            ("STOP_TIMEOUT", "stop_timeout_s", float),
        ):
            if (value := number(name, kind)) is not None:
                changes[field] = value
        return replace(self, **changes)  # type: ignore[arg-type]


def find_project_root(*starts: Path) -> Path:
    """The nearest folder at or above one of ``starts`` that holds ``deploy/kafka/pom.xml``."""
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / POM_RELATIVE).is_file():
                return folder
    raise LocalKafkaError(
        f"cannot find {POM_RELATIVE} above {', '.join(str(s) for s in starts)}; "
        "run cprbroker from inside its source checkout"
    )


def default_project_root() -> Path:
    """The checkout this package runs from (editable install), else one above the cwd."""
    return find_project_root(Path(__file__).resolve().parent, Path.cwd())


def render_server_properties(*, port: int, controller_port: int, data_dir: Path) -> str:
    """``server.properties`` of one KRaft node (broker and controller) on 127.0.0.1."""
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        # One node: every internal topic has one replica.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Tests join and leave consumer groups constantly: do not wait for more members.
        "group.initial.rebalance.delay.ms": "0",
        # Few partitions per internal topic: the machine is small and so is the load.
        "offsets.topic.num.partitions": "10",
        "num.partitions": "1",
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def jvm_command(
    settings: LocalKafkaSettings,
    *,
    logs_dir: Path,
    main_class: str,
    arguments: Sequence[str],
    short_lived: bool = False,
) -> list[str]:
    """The ``java`` command line running ``main_class`` on the fetched jars.

    The broker gets ``settings.heap_mb``. A ``short_lived`` tool (the storage
    tool) gets a small heap and only the quick JIT tier: it exits long before
    the optimising compiler would pay off, and it starts about twice as fast.
    The broker gets the quick tier only with ``settings.quick_jit``.
    """
    heap = _TOOL_HEAP_MB if short_lived else settings.heap_mb
    return [
        settings.java,
        f"-Xms{min(heap, 256)}m",
        f"-Xmx{heap}m",
        *(["-XX:TieredStopAtLevel=1"] if short_lived or settings.quick_jit else []),
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={settings.log4j_config}",
        f"-Dkafka.logs.dir={logs_dir}",
        "-cp",
        str(settings.jars_dir / "*"),
        main_class,
        *arguments,
    ]
