"""The topics of the durable retry ladder, derived from the ladder itself.

Each distinct delay of the ladder has one topic, ``<deliveries>.retry.<delay>``
(``cpr.deliveries.retry.5s``, ``.5m``, ``.30m``, ``.2h``, ``.5h``, ``.10h``
for Svix's ladder: the two 10 h tiers share one). Every record in a tier topic
waits about the same time (its delay, ± jitter), so records sit in the topic
roughly in the order they fall due and the tier's consumer only ever waits for
the record at the head of a partition.

A delivery that must wait longer than its rung (an endpoint's Retry-After)
goes to the topic of the shortest delay that covers the wait, so it never
holds up records behind it for longer than that topic's own delay.
"""

from __future__ import annotations

from dataclasses import dataclass

from cprbroker.core.delivery.retry import RetryLadder
from cprbroker.core.topics import TopicSpec

_DAY_MS = 24 * 60 * 60 * 1000
_MINIMUM_RETENTION_MS = 7 * _DAY_MS


def delay_label(seconds: float) -> str:
    """A short topic-safe name for a delay: ``"5s"``, ``"5m"``, ``"2h"``,
    ``"1500ms"``; the largest unit that gives a whole number."""
    millis = round(seconds * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis >= size and millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


@dataclass(frozen=True, slots=True)
class RetryTopics:
    """Where a delivery waits before each rung of ``ladder``; names derive from
    the deliveries topic (``base``)."""

    base: str
    ladder: RetryLadder

    @property
    def delays(self) -> tuple[float, ...]:
        """The distinct delays of the ladder, shortest first."""
        return tuple(sorted(set(self.ladder.tiers)))

    def topic_of_delay(self, delay: float) -> str:
        """The topic of tier delay ``delay`` (one of :attr:`delays`)."""
        return f"{self.base}.retry.{delay_label(delay)}"

    def topics(self) -> tuple[str, ...]:
        """Every tier topic, shortest delay first."""
        return tuple(self.topic_of_delay(delay) for delay in self.delays)

    def topic_for_wait(self, seconds: float) -> str:
        """The topic for a delivery that must wait ``seconds``: the shortest tier
        delay at least that long, else the longest tier."""
        for delay in self.delays:
            # Jitter may stretch a rung by its fraction: such a wait still belongs there.
            if seconds <= delay * (1 + self.ladder.jitter):
                return self.topic_of_delay(delay)
        return self.topic_of_delay(self.delays[-1])

    def specs(self, partitions: int) -> list[TopicSpec]:
        """The tier topics as they must be created: delete policy, kept at least
        a week and at least four times their delay."""
        return [
            TopicSpec(
                name=self.topic_of_delay(delay),
                partitions=partitions,
                compacted=False,
                retention_ms=max(_MINIMUM_RETENTION_MS, int(delay * 4000)),
            )
            for delay in self.delays
        ]


def redrive_state_topic(deliveries_topic: str) -> str:
    """The compacted topic where the delivery role keeps, per subscription, how
    far its dead letters have been redriven."""
    return f"{deliveries_topic}.redrives"
