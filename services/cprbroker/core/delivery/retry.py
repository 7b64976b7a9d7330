"""The retry policy of webhook delivery, as pure functions of attempt numbers,
times and random draws passed in; the mechanics that sleep and re-send live in
the adapter and the delivery role.

Two tiers (architecture, Delivery): short in-process retries lasting seconds
(:class:`ShortRetryPolicy`, stamina-like jittered exponential backoff), then a
durable ladder through retry topics (:class:`RetryLadder`, Svix's 5 s, 5 min,
30 min, 2 h, 5 h, 10 h, 10 h), then the dead-letter topic.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from cprbroker.core.delivery.attempt import AttemptResult, ErrorKind
from cprbroker.core.errors import DeliveryPolicyError

RandomSource = Callable[[], float]
"""Returns a float in [0, 1), like :func:`random.random`."""

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")


def parse_duration(text: str) -> float:
    """Return seconds for ``"500ms"``, ``"5s"``, ``"5m"``, ``"2h"``, ``"3d"`` or a
    bare number of seconds; raise DeliveryPolicyError otherwise."""
    match = _DURATION.match(text)
    if match is None:
        raise DeliveryPolicyError(
            f"duration {text!r} is not a number with an optional unit ms, s, m, h or d"
        )
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


# -- the durable ladder -------------------------------------------------------

DEFAULT_LADDER_SECONDS: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_LADDER_JITTER = 0.2


@dataclass(frozen=True, slots=True)
class RetryLadder:
    """Delays of the durable retry tiers, each spread by ±``jitter`` (a fraction)."""

    tiers: tuple[float, ...] = DEFAULT_LADDER_SECONDS
    jitter: float = DEFAULT_LADDER_JITTER

    def __post_init__(self) -> None:
        if not self.tiers:
            raise DeliveryPolicyError("a retry ladder needs at least one tier")
        if any(delay <= 0 for delay in self.tiers):
            raise DeliveryPolicyError(f"retry ladder delays must be > 0 s, got {self.tiers}")
        if not 0 <= self.jitter < 1:
            raise DeliveryPolicyError(f"ladder jitter must be in [0, 1), got {self.jitter}")

    @classmethod
    def parse(cls, spec: str, jitter: float = DEFAULT_LADDER_JITTER) -> RetryLadder:
        """Return the ladder of a comma-separated spec such as ``"5s,5m,30m,2h"``."""
        return cls(tuple(parse_duration(part) for part in spec.split(",")), jitter)

    def __len__(self) -> int:
        return len(self.tiers)

    def delay(self, attempt: int, rand: RandomSource) -> float | None:
        """Seconds to wait before durable retry number ``attempt`` (0 = first
        tier), jittered uniformly within ±jitter; ``None`` when the ladder is
        exhausted and the delivery belongs in the dead-letter topic."""
        if attempt < 0:
            raise DeliveryPolicyError(f"attempt must be >= 0, got {attempt}")
        if attempt >= len(self.tiers):
            return None
        base = self.tiers[attempt]
        return base * (1 + self.jitter * (2 * rand() - 1))

    def schedule(self, attempt: int, outcome: Outcome, rand: RandomSource) -> float | None:
        """Seconds until durable retry ``attempt`` after ``outcome``: the tier's
        delay, but never sooner than the endpoint's Retry-After; ``None`` = DLQ."""
        delay = self.delay(attempt, rand)
        if delay is None:
            return None
        if outcome.retry_after is not None:
            return max(delay, outcome.retry_after)
        return delay


# -- classifying one attempt ----------------------------------------------------


class OutcomeKind(enum.Enum):
    """What the delivery does next after an attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"
    RETRY_AFTER = "retry_after"
    """Retry, but not before ``Outcome.retry_after`` seconds (429/503)."""
    DISABLE_SUBSCRIPTION = "disable_subscription"
    """The endpoint said 410 Gone: disable the subscription."""
    DEAD_LETTER = "dead_letter"
    """Retrying cannot help this delivery: straight to the dead-letter topic."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The decision for one attempt; ``reason`` is short text for logs and the DLQ."""

    kind: OutcomeKind
    retry_after: float | None = None
    reason: str = ""

    @property
    def retriable(self) -> bool:
        """True when the delivery should be tried again (now or later)."""
        return self.kind in (OutcomeKind.RETRY, OutcomeKind.RETRY_AFTER)


@dataclass(frozen=True, slots=True)
class RetryAfterClamp:
    """Bounds on an endpoint's Retry-After, so it can neither make us hammer it
    nor park a delivery for a year."""

    minimum: float = 1.0
    maximum: float = 3600.0

    def __post_init__(self) -> None:
        if not 0 <= self.minimum <= self.maximum:
            raise DeliveryPolicyError(
                f"Retry-After clamp needs 0 <= minimum <= maximum, got "
                f"{self.minimum}..{self.maximum}"
            )

    def __call__(self, seconds: float) -> float:
        return min(self.maximum, max(self.minimum, seconds))


_RETRY_AFTER_STATUSES = frozenset({429, 503})
_GONE = 410


def classify(
    status: int | None,
    error_kind: ErrorKind | None,
    retry_after: float | None = None,
    clamp: RetryAfterClamp = RetryAfterClamp(),
) -> Outcome:
    """Decide what follows an attempt that got ``status`` or failed with
    ``error_kind``: 2xx delivered; 410 disables the subscription; 429/503 with a
    Retry-After retry after it (clamped); an unusable URL is dead-lettered;
    every other status, redirects, timeouts and connection errors retry."""
    if error_kind is ErrorKind.INVALID_URL:
        return Outcome(OutcomeKind.DEAD_LETTER, reason="invalid callback URL")
    if error_kind is not None:
        suffix = f" (status {status})" if status is not None else ""
        return Outcome(OutcomeKind.RETRY, reason=f"{error_kind.value}{suffix}")
    if status is None:
        raise ValueError("classify needs a status or an error kind")
    if 200 <= status < 300:
        return Outcome(OutcomeKind.DELIVERED, reason=f"status {status}")
    if status == _GONE:
        return Outcome(OutcomeKind.DISABLE_SUBSCRIPTION, reason="status 410 gone")
    if status in _RETRY_AFTER_STATUSES and retry_after is not None:
        return Outcome(
            OutcomeKind.RETRY_AFTER, retry_after=clamp(retry_after), reason=f"status {status}"
        )
    return Outcome(OutcomeKind.RETRY, reason=f"status {status}")


def classify_attempt(
    result: AttemptResult,
    clamp: RetryAfterClamp = RetryAfterClamp(),
) -> Outcome:
    """:func:`classify` applied to an :class:`AttemptResult`."""
    return classify(result.status, result.error_kind, result.retry_after, clamp)


def parse_retry_after(value: str, now: dt.datetime) -> float | None:
    """Return the seconds from ``now`` a Retry-After value asks for: delay-seconds
    (``"120"``) or an HTTP-date (IMF-fixdate, RFC 850 or asctime, taken as UTC).
    A date in the past gives 0; anything unreadable gives ``None`` (ignored)."""
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


# -- short in-process retries ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShortRetryPolicy:
    """In-process retries lasting seconds, stamina-style: the wait before attempt
    n+1 is ``min(wait_max, wait_initial * exp_base**(n-1) + U(0, wait_jitter))``;
    at most ``attempts`` attempts and none that would start after ``deadline``
    seconds from the first."""

    attempts: int = 3
    deadline: float = 5.0
    wait_initial: float = 0.1
    wait_max: float = 2.0
    wait_jitter: float = 0.5
    exp_base: float = 2.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise DeliveryPolicyError(f"short retries need attempts >= 1, got {self.attempts}")
        if min(self.deadline, self.wait_initial, self.wait_max, self.wait_jitter) < 0:
            raise DeliveryPolicyError("short retry times must be >= 0")
        if self.exp_base < 1:
            raise DeliveryPolicyError(f"exp_base must be >= 1, got {self.exp_base}")

    def backoff(self, attempt: int, rand: RandomSource) -> float:
        """Seconds to wait after attempt number ``attempt`` (1-based) failed."""
        if attempt < 1:
            raise DeliveryPolicyError(f"attempt numbers start at 1, got {attempt}")
        exponential = self.wait_initial * self.exp_base ** (attempt - 1)
        return min(self.wait_max, exponential + self.wait_jitter * rand())

    def wait(self, attempt: int, outcome: Outcome, rand: RandomSource) -> float:
        """The wait after ``attempt`` ended in ``outcome``: its Retry-After if any,
        else :meth:`backoff`."""
        if outcome.retry_after is not None:
            return outcome.retry_after
        return self.backoff(attempt, rand)

    def gives_up(self, attempt: int, elapsed: float, upcoming_wait: float) -> bool:
        """True if no further in-process attempt follows attempt ``attempt``, made
        ``elapsed`` seconds after the first, given the wait before the next."""
        return attempt >= self.attempts or elapsed + upcoming_wait >= self.deadline

    def next_wait(
        self, attempt: int, outcome: Outcome, elapsed: float, rand: RandomSource
    ) -> float | None:
        """Seconds to wait before the next in-process attempt, or ``None`` when the
        outcome is final or the delivery should move on to the durable ladder."""
        if not outcome.retriable:
            return None
        upcoming = self.wait(attempt, outcome, rand)
        if self.gives_up(attempt, elapsed, upcoming):
            return None
        return upcoming


# -- disabling a subscription that keeps failing ------------------------------------

DEFAULT_FAILURE_WINDOW_SECONDS = 3 * 86400.0


@dataclass(frozen=True, slots=True)
class SubscriptionHealth:
    """Since when (epoch seconds) every delivery of a subscription has failed;
    ``None`` while the last finished attempt succeeded."""

    failing_since: float | None = None

    def after(self, outcome: Outcome, now: float) -> SubscriptionHealth:
        """The health after an attempt at ``now`` ended in ``outcome``."""
        if outcome.kind is OutcomeKind.DELIVERED:
            return self if self.failing_since is None else SubscriptionHealth(None)
        if self.failing_since is not None:
            return self
        return SubscriptionHealth(now)

    def should_disable(self, now: float, window: float = DEFAULT_FAILURE_WINDOW_SECONDS) -> bool:
        """True if deliveries have all failed for longer than ``window`` seconds."""
        return self.failing_since is not None and now - self.failing_since > window

    def disable_reason(self, now: float) -> str:
        """Text for the subscription's disabled reason and the audit entry."""
        if self.failing_since is None:
            return ""
        hours = (now - self.failing_since) / 3600
        return f"every delivery failed for {hours:.1f} h"
