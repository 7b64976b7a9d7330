"""The Kafka topics cprbroker uses, their keys and retention.

Names are configuration; :class:`TopicNames` holds the defaults from the
architecture. :func:`topic_specs` says how each topic must be created, so the
tooling, the deployment manifests and the tests agree on one list.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

_DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True, slots=True)
class TopicNames:
    """Topic names, each overridable by configuration."""

    person_records: str = "cpr.person-records"
    person_records_dlq: str = "cpr.person-records.dlq"
    events: str = "cpr.events"
    subscriptions: str = "cpr.subscriptions"
    subscription_pnrs: str = "cpr.subscription-pnrs"
    clients: str = "cpr.clients"
    ingest_state: str = "cpr.ingest-state"
    deliveries: str = "cpr.deliveries"
    deliveries_dlq: str = "cpr.deliveries.dlq"
    delivery_attempts: str = "cpr.delivery-attempts"
    audit: str = "cpr.audit"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """How one topic is created: its name, partitions and retention policy."""

    name: str
    partitions: int
    compacted: bool
    retention_ms: int | None  # None = broker default; -1 = keep forever

    def configs(self) -> dict[str, str]:
        """Topic-level configuration entries for topic creation."""
        result = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.retention_ms is not None:
            result["retention.ms"] = str(self.retention_ms)
        return result


# Which topics are state (compacted) and how long the rest are kept.
_COMPACTED = {"subscriptions", "subscription_pnrs", "clients", "ingest_state"}
_RETENTION_MS: dict[str, int] = {
    "person_records": -1,
    "person_records_dlq": -1,
    "events": -1,
    "deliveries": 14 * _DAY_MS,
    "deliveries_dlq": -1,
    "delivery_attempts": 30 * _DAY_MS,
    "audit": 190 * _DAY_MS,  # the Danish logging rule asks for at least 6 months
}


def topic_specs(names: TopicNames, partitions: int = 6) -> list[TopicSpec]:
    """Every topic of ``names`` with its creation settings."""
    return [
        TopicSpec(
            name=getattr(names, field.name),
            partitions=partitions,
            compacted=field.name in _COMPACTED,
            retention_ms=_RETENTION_MS.get(field.name),
        )
        for field in fields(names)
    ]
