"""Settings of the subscription API role, built once by the CLI and passed down."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from cprbroker.core.errors import SettingsError
from cprbroker.core.ports import check_port
from cprbroker.core.topics import TopicNames

ENV_PREFIX = "CPRBROKER_"
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
DEFAULT_KNOWN_PNRS_TOPIC = "cpr.known-pnrs"


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """How the API listens, which Kafka and topics hold its state, and its limits.

    ``callback_allow_cidrs`` admits callback URLs whose host resolves into
    these networks although they are private, loopback or link-local.
    ``known_pnrs_topic`` is where the processor publishes which persons the
    replica holds (see :mod:`cprbroker.adapters.known_persons`).
    ``event_catalogue`` names the event catalogue whose event types filters may
    use (None: the built-in one).
    """

    host: str = "127.0.0.1"
    port: int = 8080
    bootstrap_servers: str = "127.0.0.1:9092"
    topics: TopicNames = field(default_factory=TopicNames)
    known_pnrs_topic: str = DEFAULT_KNOWN_PNRS_TOPIC
    callback_allow_cidrs: tuple[str, ...] = ()
    max_body_bytes: int = 1024 * 1024
    max_batch_items: int = 10_000
    default_page_size: int = 1_000
    max_page_size: int = 10_000
    create_topics: bool = True
    topic_partitions: int = 6
    event_catalogue: Path | None = None

    def __post_init__(self) -> None:
        check_port("API port", self.port)
        for name in ("max_body_bytes", "max_batch_items", "default_page_size", "max_page_size"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be positive, got {getattr(self, name)}")
        for cidr in self.callback_allow_cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise SettingsError(f"callback allow-list entry {cidr!r} is not a CIDR") from exc

    def with_environ(self, environ: Mapping[str, str]) -> ApiSettings:
        """These settings overridden by the environment.

        Understood: ``KAFKA_BOOTSTRAP_SERVERS``; ``CPRBROKER_API_HOST``,
        ``CPRBROKER_API_PORT``, ``CPRBROKER_API_MAX_BODY_BYTES``,
        ``CPRBROKER_CALLBACK_ALLOW_CIDRS`` (comma-separated),
        ``CPRBROKER_KNOWN_PNRS_TOPIC``, ``CPRBROKER_EVENT_CATALOGUE`` and
        ``CPRBROKER_TOPIC_<NAME>`` for each
        topic of :class:`TopicNames` (``CPRBROKER_TOPIC_AUDIT``, ...).
        A malformed value raises SettingsError naming the variable.
        """
        changes: dict[str, object] = {}

        def text(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        if (bootstrap := text(BOOTSTRAP_ENV)) is not None:
            changes["bootstrap_servers"] = bootstrap
        if (host := text(ENV_PREFIX + "API_HOST")) is not None:
            changes["host"] = host
        for name, attribute in (("API_PORT", "port"), ("API_MAX_BODY_BYTES", "max_body_bytes")):
            if (raw := text(ENV_PREFIX + name)) is not None:
                changes[attribute] = _integer(ENV_PREFIX + name, raw)
        if (cidrs := text(ENV_PREFIX + "CALLBACK_ALLOW_CIDRS")) is not None:
            changes["callback_allow_cidrs"] = split_list(cidrs)
        if (known := text(ENV_PREFIX + "KNOWN_PNRS_TOPIC")) is not None:
            changes["known_pnrs_topic"] = known
        if (catalogue := text(ENV_PREFIX + "EVENT_CATALOGUE")) is not None:
            changes["event_catalogue"] = Path(catalogue)
        topic_changes = {
            f.name: value
            for f in dataclasses.fields(TopicNames)
            if (value := text(f"{ENV_PREFIX}TOPIC_{f.name.upper()}")) is not None
        }
        if topic_changes:
            changes["topics"] = replace(self.topics, **topic_changes)
        return replace(self, **changes)  # type: ignore[arg-type]


def split_list(value: str) -> tuple[str, ...]:
    """``"a, b,,c"`` as ``("a", "b", "c")``."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _integer(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
