"""The circuit breaker state machine, driven by outcomes and clock values."""

from __future__ import annotations

import pytest

from cprbroker.core.delivery.circuit import CircuitBreaker, CircuitState
from cprbroker.core.delivery.retry import Outcome, OutcomeKind
from cprbroker.core.errors import DeliveryPolicyError

FAIL = Outcome(OutcomeKind.RETRY, reason="status 500")
OK = Outcome(OutcomeKind.DELIVERED)


def _tripped(now: float = 0.0) -> CircuitBreaker:
    breaker = CircuitBreaker(failure_threshold=3, open_seconds=10.0, max_open_seconds=35.0)
    for _ in range(3):
        assert breaker.allow(now)
        breaker.record(FAIL, now)
    return breaker


def test_closed_circuit_allows_until_threshold_consecutive_failures() -> None:
    breaker = CircuitBreaker(failure_threshold=3, open_seconds=10.0)
    breaker.record(FAIL, 0.0)
    breaker.record(FAIL, 0.0)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.allow(0.0)
    breaker.record(FAIL, 1.0)
    assert breaker.state is CircuitState.OPEN
    assert not breaker.allow(1.0)
    assert breaker.reopens_at() == 11.0


def test_a_success_between_failures_resets_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=3)
    breaker.record(FAIL, 0.0)
    breaker.record(FAIL, 0.0)
    breaker.record(OK, 0.0)
    breaker.record(FAIL, 0.0)
    breaker.record(FAIL, 0.0)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.consecutive_failures == 2


def test_open_circuit_half_opens_after_its_period_and_admits_one_probe() -> None:
    breaker = _tripped()
    assert not breaker.allow(9.99)
    assert breaker.allow(10.0)
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.reopens_at() is None
    assert not breaker.allow(10.5)  # the probe has not reported back yet


def test_successful_probe_closes_the_circuit() -> None:
    breaker = _tripped()
    assert breaker.allow(10.0)
    breaker.record(OK, 10.2)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.consecutive_failures == 0
    assert all(breaker.allow(10.3) for _ in range(5))


def test_failed_probe_reopens_for_twice_as_long_up_to_the_cap() -> None:
    breaker = _tripped()
    assert breaker.allow(10.0)
    breaker.record(FAIL, 10.0)
    assert breaker.state is CircuitState.OPEN
    assert breaker.reopens_at() == 30.0
    assert breaker.allow(30.0)
    breaker.record(FAIL, 30.0)
    assert breaker.reopens_at() == 65.0  # 40 s capped to 35 s
    assert breaker.allow(65.0)
    breaker.record(OK, 65.0)
    # After closing, the next trip starts from the base period again.
    for _ in range(3):
        breaker.record(FAIL, 70.0)
    assert breaker.reopens_at() == 80.0


def test_retry_after_opens_at_once_for_at_least_that_long() -> None:
    breaker = CircuitBreaker(failure_threshold=5, open_seconds=10.0)
    breaker.record(Outcome(OutcomeKind.RETRY_AFTER, retry_after=120.0), 0.0)
    assert breaker.state is CircuitState.OPEN
    assert breaker.reopens_at() == 120.0
    # A late 429 from an attempt admitted earlier extends, never shortens.
    breaker.record(Outcome(OutcomeKind.RETRY_AFTER, retry_after=300.0), 5.0)
    assert breaker.reopens_at() == 305.0
    breaker.record(Outcome(OutcomeKind.RETRY_AFTER, retry_after=1.0), 6.0)
    assert breaker.reopens_at() == 305.0


def test_gone_counts_as_alive_and_dead_letter_as_neutral() -> None:
    breaker = CircuitBreaker(failure_threshold=2)
    breaker.record(FAIL, 0.0)
    breaker.record(Outcome(OutcomeKind.DEAD_LETTER), 0.0)
    assert breaker.consecutive_failures == 1
    breaker.record(Outcome(OutcomeKind.DISABLE_SUBSCRIPTION), 0.0)
    assert breaker.consecutive_failures == 0


def test_probe_limit_admits_several_probes() -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_seconds=1.0, probe_limit=2)
    breaker.record(FAIL, 0.0)
    assert [breaker.allow(1.0) for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"failure_threshold": 0},
        {"open_seconds": 0.0},
        {"open_seconds": 10.0, "max_open_seconds": 5.0},
        {"probe_limit": 0},
    ],
)
def test_breaker_refuses_bad_configuration(kwargs: dict[str, float]) -> None:
    with pytest.raises(DeliveryPolicyError):
        CircuitBreaker(**kwargs)  # type: ignore[arg-type]
