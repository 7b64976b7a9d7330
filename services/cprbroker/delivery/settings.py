"""Settings of the delivery role, built once by the CLI and passed down."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from cprbroker.adapters.retry_topics import RetryTopics, redrive_state_topic
from cprbroker.adapters.webhook_http import WebhookHttpSettings
from cprbroker.core.delivery.callback_url import AddressPolicy
from cprbroker.core.delivery.cloudevents import DEFAULT_SOURCE
from cprbroker.core.delivery.retry import (
    DEFAULT_FAILURE_WINDOW_SECONDS,
    RetryAfterClamp,
    RetryLadder,
    ShortRetryPolicy,
    parse_duration,
)
from cprbroker.core.errors import CprBrokerError, SettingsError
from cprbroker.core.ports import check_port
from cprbroker.core.topics import TopicNames

ENV_PREFIX = "CPRBROKER_"
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
DEFAULT_GROUP = "cprbroker-delivery"
DEFAULT_METRICS_PORT = 9108


@dataclass(frozen=True, slots=True)
class CircuitSettings:
    """When a subscription's circuit opens and for how long (seconds)."""

    failure_threshold: int = 5
    open_seconds: float = 30.0
    max_open_seconds: float = 600.0


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """Everything the delivery role needs to know.

    ``group_id`` names the consumer groups (``<group>.fanout``, ``<group>.send``,
    ``<group>.retry``). ``concurrency_per_subscription`` caps simultaneous
    requests to one endpoint; ``max_in_flight`` caps deliveries being worked on
    per stage. ``callback_allow_cidrs`` admits private/loopback endpoints.
    ``failure_window`` (seconds) disables a subscription whose deliveries
    have all failed that long; ``rotation_grace`` (seconds) keeps signing with
    the previous secret after a rotation. ``metrics_port`` None serves no
    metrics; 0 picks a free port. ``drain_timeout`` bounds the wait for
    in-flight deliveries on SIGTERM.
    """

    bootstrap_servers: str = "127.0.0.1:9092"
    topics: TopicNames = field(default_factory=TopicNames)
    group_id: str = DEFAULT_GROUP
    ladder: RetryLadder = field(default_factory=RetryLadder)
    short_retry: ShortRetryPolicy = field(default_factory=ShortRetryPolicy)
    retry_after_clamp: RetryAfterClamp = field(default_factory=RetryAfterClamp)
    http: WebhookHttpSettings = field(
        # Many subscriptions may share one endpoint host (an integration platform).
        default_factory=lambda: WebhookHttpSettings(
            max_connections=512, max_connections_per_host=64
        )
    )
    circuit: CircuitSettings = field(default_factory=CircuitSettings)
    concurrency_per_subscription: int = 8
    max_in_flight: int = 2000
    callback_allow_cidrs: tuple[str, ...] = ()
    failure_window: float = DEFAULT_FAILURE_WINDOW_SECONDS
    rotation_grace: float = 24 * 3600.0
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = DEFAULT_METRICS_PORT
    create_topics: bool = True
    topic_partitions: int = 6
    commit_interval: float = 1.0
    drain_timeout: float = 30.0
    source: str = DEFAULT_SOURCE

    def __post_init__(self) -> None:
        for name in ("concurrency_per_subscription", "max_in_flight", "topic_partitions"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("failure_window", "rotation_grace", "commit_interval", "drain_timeout"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name} must not be negative, got {getattr(self, name)}")
        check_port("metrics port", self.metrics_port)
        if not self.group_id:
            raise SettingsError("the consumer group id must not be empty")
        self.address_policy()

    def address_policy(self) -> AddressPolicy:
        """The callback-URL policy with the operator allow-list."""
        try:
            return AddressPolicy.from_cidrs(self.callback_allow_cidrs)
        except CprBrokerError as exc:
            raise SettingsError(str(exc)) from exc

    @property
    def retry_topics(self) -> RetryTopics:
        """The retry tier topics of the ladder."""
        return RetryTopics(self.topics.deliveries, self.ladder)

    @property
    def redrive_topic(self) -> str:
        """The compacted topic of dead-letter redrive progress."""
        return redrive_state_topic(self.topics.deliveries)

    def with_environ(self, environ: Mapping[str, str]) -> DeliverySettings:
        """These settings overridden by the environment.

        Understood: ``KAFKA_BOOTSTRAP_SERVERS``; ``CPRBROKER_DELIVERY_GROUP``,
        ``CPRBROKER_RETRY_LADDER`` (``"5s,5m,30m,2h,5h,10h,10h"``),
        ``CPRBROKER_RETRY_JITTER`` (fraction), ``CPRBROKER_SHORT_RETRY_WINDOW``
        and ``CPRBROKER_SHORT_RETRY_ATTEMPTS``, ``CPRBROKER_RETRY_AFTER_MAX``,
        ``CPRBROKER_WEBHOOK_TIMEOUT``, ``CPRBROKER_WEBHOOK_CONNECTIONS_PER_HOST``,
        ``CPRBROKER_DELIVERY_CONCURRENCY`` (per
        subscription), ``CPRBROKER_DELIVERY_MAX_IN_FLIGHT``,
        ``CPRBROKER_CALLBACK_ALLOW_CIDRS`` (comma-separated),
        ``CPRBROKER_FAILURE_WINDOW``, ``CPRBROKER_SECRET_ROTATION_GRACE``,
        ``CPRBROKER_CIRCUIT_OPEN``, ``CPRBROKER_METRICS_HOST``,
        ``CPRBROKER_METRICS_PORT`` (``off`` for none),
        ``CPRBROKER_DRAIN_TIMEOUT``, ``CPRBROKER_PARTITIONS`` (overridden by
        ``CPRBROKER_TOPIC_PARTITIONS``) and
        ``CPRBROKER_TOPIC_<NAME>`` per topic of :class:`TopicNames`. Durations
        take ``ms``, ``s``, ``m``, ``h``, ``d``. A malformed value raises
        SettingsError naming the variable.
        """
        read = _Environ(environ)
        changes: dict[str, object] = {}
        if (bootstrap := read.text(BOOTSTRAP_ENV)) is not None:
            changes["bootstrap_servers"] = bootstrap
        if (group := read.text(ENV_PREFIX + "DELIVERY_GROUP")) is not None:
            changes["group_id"] = group
        jitter = read.number(ENV_PREFIX + "RETRY_JITTER")
        if (ladder := read.text(ENV_PREFIX + "RETRY_LADDER")) is not None or jitter is not None:
            changes["ladder"] = read.ladder(
                ENV_PREFIX + "RETRY_LADDER", ladder, self.ladder, jitter
            )
        window = read.duration(ENV_PREFIX + "SHORT_RETRY_WINDOW")
        attempts = read.integer(ENV_PREFIX + "SHORT_RETRY_ATTEMPTS")
        if window is not None or attempts is not None:
            changes["short_retry"] = replace(
                self.short_retry,
                deadline=self.short_retry.deadline if window is None else window,
                attempts=self.short_retry.attempts if attempts is None else attempts,
            )
        if (clamp_max := read.duration(ENV_PREFIX + "RETRY_AFTER_MAX")) is not None:
            changes["retry_after_clamp"] = replace(self.retry_after_clamp, maximum=clamp_max)
        http = self.http
        if (timeout := read.duration(ENV_PREFIX + "WEBHOOK_TIMEOUT")) is not None:
            http = replace(http, timeout=timeout)
        if (per_host := read.integer(ENV_PREFIX + "WEBHOOK_CONNECTIONS_PER_HOST")) is not None:
            http = replace(http, max_connections_per_host=per_host)
        if http != self.http:
            changes["http"] = http
        if (open_for := read.duration(ENV_PREFIX + "CIRCUIT_OPEN")) is not None:
            changes["circuit"] = replace(
                self.circuit,
                open_seconds=open_for,
                max_open_seconds=max(open_for, self.circuit.max_open_seconds),
            )
        # One partition count for every role, as ingest and the processor read
        # it; CPRBROKER_TOPIC_PARTITIONS, read below, overrides it for delivery.
        if (partitions := read.integer(ENV_PREFIX + "PARTITIONS")) is not None:
            changes["topic_partitions"] = partitions
        for variable, name, parse in (
            ("DELIVERY_CONCURRENCY", "concurrency_per_subscription", read.integer),
            ("DELIVERY_MAX_IN_FLIGHT", "max_in_flight", read.integer),
            ("TOPIC_PARTITIONS", "topic_partitions", read.integer),
            ("FAILURE_WINDOW", "failure_window", read.duration),
            ("SECRET_ROTATION_GRACE", "rotation_grace", read.duration),
            ("DRAIN_TIMEOUT", "drain_timeout", read.duration),
        ):
            if (value := parse(ENV_PREFIX + variable)) is not None:
                changes[name] = value
        if (cidrs := read.text(ENV_PREFIX + "CALLBACK_ALLOW_CIDRS")) is not None:
            changes["callback_allow_cidrs"] = split_list(cidrs)
        if (host := read.text(ENV_PREFIX + "METRICS_HOST")) is not None:
            changes["metrics_host"] = host
        if (port_text := read.text(ENV_PREFIX + "METRICS_PORT")) is not None:
            changes["metrics_port"] = (
                None if port_text.lower() == "off" else read.integer(ENV_PREFIX + "METRICS_PORT")
            )
        topic_changes = {
            f.name: topic
            for f in dataclasses.fields(TopicNames)
            if (topic := read.text(f"{ENV_PREFIX}TOPIC_{f.name.upper()}")) is not None
        }
        if topic_changes:
            changes["topics"] = replace(self.topics, **topic_changes)
        try:
            return replace(self, **changes)  # type: ignore[arg-type]
        except SettingsError:
            raise
        except CprBrokerError as exc:
            raise SettingsError(str(exc)) from exc


def split_list(value: str) -> tuple[str, ...]:
    """``"a, b,,c"`` as ``("a", "b", "c")``."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


class _Environ:
    """Typed reads of environment variables, each error naming the variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def integer(self, name: str) -> int | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError as exc:
            raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc

    def number(self, name: str) -> float | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return float(raw)
        except ValueError as exc:
            raise SettingsError(f"{name} must be a number, got {raw!r}") from exc

    def duration(self, name: str) -> float | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return parse_duration(raw)
        except CprBrokerError as exc:
            raise SettingsError(f"{name}: {exc}") from exc

    def ladder(
        self, name: str, spec: str | None, current: RetryLadder, jitter: float | None
    ) -> RetryLadder:
        try:
            if spec is None:
                return RetryLadder(current.tiers, current.jitter if jitter is None else jitter)
            return RetryLadder.parse(spec, current.jitter if jitter is None else jitter)
        except CprBrokerError as exc:
            raise SettingsError(f"{name}: {exc}") from exc
