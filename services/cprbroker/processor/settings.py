"""Settings of the processor role, built once by the CLI and passed down."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from cprbroker.core.delivery.cloudevents import DEFAULT_SOURCE
from cprbroker.core.errors import SettingsError
from cprbroker.core.ports import check_port
from cprbroker.core.topics import TopicNames

ENV_PREFIX = "CPRBROKER_"
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
DEFAULT_KNOWN_PNRS_TOPIC = "cpr.known-pnrs"
STORES = ("rocksdb", "memory")
COMPRESSION_TYPES = ("none", "gzip", "lz4", "snappy", "zstd")
DEFAULT_HEALTH_PORT = 9109
_APP_ID = re.compile(r"[A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class ProcessorSettings:
    """Which Kafka, topics and local state the processor uses, and how it batches.

    ``data_dir`` holds the RocksDB replica (a cache of the table's changelog
    topic: a new, empty directory is rebuilt from the changelog). ``store`` is
    ``rocksdb`` or ``memory`` (no local files; everything is read back from
    the changelog at start). ``batch_size`` messages, or what arrived within
    ``batch_seconds``, are derived together and their events produced
    together. ``partitions`` is used when topics are created; the replica
    table always gets the partition count ``cpr.person-records`` has.
    ``app_id`` names the consumer group and the internal topics
    (``<app_id>-replica-changelog``, ...). ``/healthz`` and ``/readyz`` are
    served on ``health_host:health_port`` (None: not served).
    """

    bootstrap_servers: str = "127.0.0.1:9092"
    topics: TopicNames = field(default_factory=TopicNames)
    known_pnrs_topic: str = DEFAULT_KNOWN_PNRS_TOPIC
    app_id: str = "cprbroker-processor"
    data_dir: Path = Path("var/processor")
    store: str = "rocksdb"
    partitions: int = 6
    create_topics: bool = True
    batch_size: int = 1000
    batch_seconds: float = 0.05
    linger_ms: int = 20
    batch_bytes: int = 512 * 1024
    compression: str = "none"
    commit_interval: float = 2.0
    event_source: str = DEFAULT_SOURCE
    event_catalogue: Path | None = None
    health_host: str = "127.0.0.1"
    health_port: int | None = DEFAULT_HEALTH_PORT

    def __post_init__(self) -> None:
        for name in ("partitions", "batch_size", "batch_bytes"):
            if getattr(self, name) < 1:
                raise SettingsError(f"processor {name} must be positive, got {getattr(self, name)}")
        for name in ("batch_seconds", "commit_interval"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"processor {name} must be positive, got {getattr(self, name)}")
        if self.linger_ms < 0:
            raise SettingsError(f"processor linger_ms must not be negative, got {self.linger_ms}")
        check_port("processor health port", self.health_port)
        if self.store not in STORES:
            raise SettingsError(
                f"processor store must be one of {', '.join(STORES)}, got {self.store!r}"
            )
        if self.compression not in COMPRESSION_TYPES:
            raise SettingsError(
                f"processor compression must be one of {', '.join(COMPRESSION_TYPES)}, "
                f"got {self.compression!r}"
            )
        if (
            not self.app_id
            or not self.app_id.replace("-", "").replace("_", "").replace(".", "").isalnum()
        ):
            raise SettingsError(
                f"processor app id must be letters, digits, '-', '_' or '.', got {self.app_id!r}"
            )

    def with_environ(self, environ: Mapping[str, str]) -> ProcessorSettings:
        """These settings overridden by the environment.

        Understood: ``KAFKA_BOOTSTRAP_SERVERS``; ``CPRBROKER_PARTITIONS``,
        ``CPRBROKER_KNOWN_PNRS_TOPIC``, ``CPRBROKER_EVENT_CATALOGUE``,
        ``CPRBROKER_TOPIC_<NAME>`` for each topic of :class:`TopicNames`, and
        ``CPRBROKER_PROCESSOR_<X>`` for X in APP_ID, DATA_DIR, STORE,
        BATCH_SIZE, BATCH_SECONDS, LINGER_MS, BATCH_BYTES, COMPRESSION,
        COMMIT_INTERVAL, EVENT_SOURCE, HEALTH_HOST and HEALTH_PORT (``off``
        for none). A malformed value raises SettingsError naming the variable.
        """
        changes: dict[str, object] = {}
        if (bootstrap := _text(environ, BOOTSTRAP_ENV)) is not None:
            changes["bootstrap_servers"] = bootstrap
        if (raw := _text(environ, ENV_PREFIX + "PARTITIONS")) is not None:
            changes["partitions"] = _number(ENV_PREFIX + "PARTITIONS", raw, int)
        if (known := _text(environ, ENV_PREFIX + "KNOWN_PNRS_TOPIC")) is not None:
            changes["known_pnrs_topic"] = known
        if (catalogue := _text(environ, ENV_PREFIX + "EVENT_CATALOGUE")) is not None:
            changes["event_catalogue"] = Path(catalogue)
        for suffix, attribute, kind in _PROCESSOR_ENV:
            name = f"{ENV_PREFIX}PROCESSOR_{suffix}"
            if (raw := _text(environ, name)) is not None:
                changes[attribute] = raw if kind is str else _number(name, raw, kind)
        if "data_dir" in changes:
            changes["data_dir"] = Path(str(changes["data_dir"]))
        port_name = f"{ENV_PREFIX}PROCESSOR_HEALTH_PORT"
        if (port := _text(environ, port_name)) is not None:
            changes["health_port"] = (
                None if port.lower() == "off" else _number(port_name, port, int)
            )
        topic_changes = {
            f.name: value
            for f in dataclasses.fields(TopicNames)
            if (value := _text(environ, f"{ENV_PREFIX}TOPIC_{f.name.upper()}")) is not None
        }
        if topic_changes:
            changes["topics"] = replace(self.topics, **topic_changes)
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def compression_type(self) -> str | None:
        """The producer's ``compression_type`` (None for none)."""
        return None if self.compression == "none" else self.compression


_PROCESSOR_ENV: tuple[tuple[str, str, type], ...] = (
    ("APP_ID", "app_id", str),
    ("DATA_DIR", "data_dir", str),
    ("STORE", "store", str),
    ("BATCH_SIZE", "batch_size", int),
    ("BATCH_SECONDS", "batch_seconds", float),
    ("LINGER_MS", "linger_ms", int),
    ("BATCH_BYTES", "batch_bytes", int),
    ("COMPRESSION", "compression", str),
    ("COMMIT_INTERVAL", "commit_interval", float),
    ("EVENT_SOURCE", "event_source", str),
    ("HEALTH_HOST", "health_host", str),
)


def _number(name: str, raw: str, kind: type) -> int | float:
    try:
        value: int | float = kind(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number ({kind.__name__}), got {raw!r}") from exc
    return value


def _text(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None
