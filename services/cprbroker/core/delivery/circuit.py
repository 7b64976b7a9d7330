"""A circuit breaker per subscription endpoint, so a dead endpoint is probed
now and then instead of being hammered by every delivery in its queue.

A pure state machine: outcomes and clock values (seconds, any monotonic origin)
are passed in; it never reads a clock or sleeps.

::

    CLOSED --(failure_threshold consecutive failures, or a Retry-After)--> OPEN
    OPEN --(open period over; next allow())--> HALF_OPEN (admits probe_limit probes)
    HALF_OPEN --(probe succeeds)--> CLOSED
    HALF_OPEN --(probe fails)--> OPEN, for twice as long (up to max_open_seconds)
"""

from __future__ import annotations

import enum

from cprbroker.core.delivery.retry import Outcome, OutcomeKind
from cprbroker.core.errors import DeliveryPolicyError

# The endpoint answered these deliberately: it is alive, whatever the answer.
_ENDPOINT_ALIVE = frozenset({OutcomeKind.DELIVERED, OutcomeKind.DISABLE_SUBSCRIPTION})


class CircuitState(enum.Enum):
    """Whether deliveries flow to the endpoint."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """The breaker of one endpoint; see the module docstring for transitions."""

    def __init__(
        self,
        failure_threshold: int = 5,
        open_seconds: float = 30.0,
        max_open_seconds: float = 600.0,
        probe_limit: int = 1,
    ) -> None:
        if failure_threshold < 1:
            raise DeliveryPolicyError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if not 0 < open_seconds <= max_open_seconds:
            raise DeliveryPolicyError(
                f"need 0 < open_seconds <= max_open_seconds, got {open_seconds}, {max_open_seconds}"
            )
        if probe_limit < 1:
            raise DeliveryPolicyError(f"probe_limit must be >= 1, got {probe_limit}")
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self.max_open_seconds = max_open_seconds
        self.probe_limit = probe_limit
        self._state = CircuitState.CLOSED
        self._consecutive_failures = 0
        self._current_open_seconds = open_seconds
        self._open_until = 0.0
        self._probes_admitted = 0

    @property
    def state(self) -> CircuitState:
        """The state as of the last call (OPEN turns HALF_OPEN inside allow())."""
        return self._state

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success (reset when the circuit closes)."""
        return self._consecutive_failures

    def reopens_at(self) -> float | None:
        """When an OPEN circuit admits a probe again; ``None`` unless OPEN. The
        delivery role schedules parked deliveries for this time."""
        return self._open_until if self._state is CircuitState.OPEN else None

    def allow(self, now: float) -> bool:
        """True if a delivery attempt may start at ``now``. In HALF_OPEN only
        ``probe_limit`` attempts are admitted until one of them reports back."""
        if self._state is CircuitState.OPEN:
            if now < self._open_until:
                return False
            self._state = CircuitState.HALF_OPEN
            self._probes_admitted = 0
        if self._state is CircuitState.HALF_OPEN:
            if self._probes_admitted >= self.probe_limit:
                return False
            self._probes_admitted += 1
        return True

    def record(self, outcome: Outcome, now: float) -> None:
        """Feed the outcome of an attempt that finished at ``now``."""
        if outcome.kind in _ENDPOINT_ALIVE:
            self.record_success()
        elif outcome.retriable:
            self.record_failure(now, outcome.retry_after)
        # DEAD_LETTER (an unusable URL) says nothing about the endpoint's health.

    def record_success(self) -> None:
        """The endpoint answered: close the circuit and forget past failures."""
        self._state = CircuitState.CLOSED
        self._consecutive_failures = 0
        self._current_open_seconds = self.open_seconds
        self._probes_admitted = 0

    def record_failure(self, now: float, retry_after: float | None = None) -> None:
        """The endpoint failed at ``now``; a ``retry_after`` (seconds) opens the
        circuit at once for at least that long, since the endpoint asked for it."""
        self._consecutive_failures += 1
        if self._state is CircuitState.HALF_OPEN:
            # The probe failed: back off harder before the next one.
            self._current_open_seconds = min(self.max_open_seconds, self._current_open_seconds * 2)
            self._open(now, retry_after)
        elif self._state is CircuitState.OPEN:
            # A late result from an attempt admitted before opening.
            if retry_after is not None:
                self._open_until = max(self._open_until, now + retry_after)
        elif retry_after is not None or self._consecutive_failures >= self.failure_threshold:
            self._open(now, retry_after)

    def _open(self, now: float, retry_after: float | None) -> None:
        self._state = CircuitState.OPEN
        self._probes_admitted = 0
        self._open_until = now + max(self._current_open_seconds, retry_after or 0.0)
