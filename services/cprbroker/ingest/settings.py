"""Settings of the ingest role, built once by the CLI and passed down."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from cprbroker.core.errors import SettingsError
from cprbroker.core.topics import TopicNames

ENV_PREFIX = "CPRBROKER_"
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
COMPRESSION_TYPES = ("none", "gzip", "lz4", "snappy", "zstd")


@dataclass(frozen=True, slots=True)
class IngestSettings:
    """Which Kafka and topics ingest writes to, and how it batches.

    ``partitions`` is used when ingest creates the topics (``create_topics``);
    existing topics keep theirs. ``linger_ms``, ``batch_bytes`` and
    ``compression`` tune the producer; ``window`` is how many person messages
    may be in flight before ingest waits for Kafka to acknowledge them.
    """

    bootstrap_servers: str = "127.0.0.1:9092"
    topics: TopicNames = field(default_factory=TopicNames)
    partitions: int = 6
    create_topics: bool = True
    linger_ms: int = 20
    batch_bytes: int = 512 * 1024
    compression: str = "none"
    window: int = 20_000

    def __post_init__(self) -> None:
        for name in ("partitions", "batch_bytes", "window"):
            if getattr(self, name) < 1:
                raise SettingsError(f"ingest {name} must be positive, got {getattr(self, name)}")
        if self.linger_ms < 0:
            raise SettingsError(f"ingest linger_ms must not be negative, got {self.linger_ms}")
        if self.compression not in COMPRESSION_TYPES:
            raise SettingsError(
                f"ingest compression must be one of {', '.join(COMPRESSION_TYPES)}, "
                f"got {self.compression!r}"
            )

    @property
    def compression_type(self) -> str | None:
        """The producer's ``compression_type`` (None for none)."""
        return None if self.compression == "none" else self.compression

    def with_environ(self, environ: Mapping[str, str]) -> IngestSettings:
        """These settings overridden by the environment.

        Understood: ``KAFKA_BOOTSTRAP_SERVERS``, ``CPRBROKER_PARTITIONS``,
        ``CPRBROKER_INGEST_LINGER_MS``, ``CPRBROKER_INGEST_BATCH_BYTES``,
        ``CPRBROKER_INGEST_COMPRESSION``, ``CPRBROKER_INGEST_WINDOW`` and
        ``CPRBROKER_TOPIC_<NAME>`` for each topic of :class:`TopicNames`.
        A malformed value raises SettingsError naming the variable.
        """
        changes: dict[str, object] = {}
        if (bootstrap := _text(environ, BOOTSTRAP_ENV)) is not None:
            changes["bootstrap_servers"] = bootstrap
        for name, attribute in (
            ("PARTITIONS", "partitions"),
            ("INGEST_LINGER_MS", "linger_ms"),
            ("INGEST_BATCH_BYTES", "batch_bytes"),
            ("INGEST_WINDOW", "window"),
        ):
            if (raw := _text(environ, ENV_PREFIX + name)) is not None:
                changes[attribute] = integer(ENV_PREFIX + name, raw)
        if (compression := _text(environ, ENV_PREFIX + "INGEST_COMPRESSION")) is not None:
            changes["compression"] = compression
        topics = topics_from_environ(self.topics, environ)
        if topics != self.topics:
            changes["topics"] = topics
        return replace(self, **changes)  # type: ignore[arg-type]


def topics_from_environ(topics: TopicNames, environ: Mapping[str, str]) -> TopicNames:
    """``topics`` with each ``CPRBROKER_TOPIC_<NAME>`` that is set."""
    changes = {
        f.name: value
        for f in dataclasses.fields(TopicNames)
        if (value := _text(environ, f"{ENV_PREFIX}TOPIC_{f.name.upper()}")) is not None
    }
    return replace(topics, **changes) if changes else topics


def integer(name: str, raw: str) -> int:
    """``raw`` as an int; SettingsError naming ``name`` otherwise."""
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _text(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None
