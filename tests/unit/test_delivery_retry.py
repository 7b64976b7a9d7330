"""Retry policy: durable ladder, classification, Retry-After, short retries,
and disabling a subscription that keeps failing."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import pytest

from cprbroker.core.delivery.attempt import AttemptResult, ErrorKind
from cprbroker.core.delivery.retry import (
    DEFAULT_LADDER_SECONDS,
    Outcome,
    OutcomeKind,
    RetryAfterClamp,
    RetryLadder,
    ShortRetryPolicy,
    SubscriptionHealth,
    classify,
    classify_attempt,
    parse_duration,
    parse_retry_after,
)
from cprbroker.core.errors import DeliveryPolicyError


def fixed(value: float) -> Callable[[], float]:
    return lambda: value


RETRY = Outcome(OutcomeKind.RETRY)


# -- durations and the ladder ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5s", 5),
        ("5m", 300),
        ("30m", 1800),
        ("2h", 7200),
        ("3d", 259200),
        ("250ms", 0.25),
        ("1.5", 1.5),
        (" 10h ", 36000),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5x", "-5s", "s", "5 m s"])
def test_parse_duration_refuses_garbage_naming_it(text: str) -> None:
    with pytest.raises(DeliveryPolicyError, match="duration"):
        parse_duration(text)


def test_default_ladder_is_svix_and_parses_from_its_spec() -> None:
    assert DEFAULT_LADDER_SECONDS == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert RetryLadder.parse("5s,5m,30m,2h,5h,10h,10h").tiers == DEFAULT_LADDER_SECONDS
    assert len(RetryLadder()) == 7


def test_ladder_delay_without_jitter_is_the_tier_and_none_after_the_last() -> None:
    ladder = RetryLadder.parse("1s,2s,3s", jitter=0.0)
    assert [ladder.delay(i, fixed(0.9)) for i in range(4)] == [1.0, 2.0, 3.0, None]
    with pytest.raises(DeliveryPolicyError):
        ladder.delay(-1, fixed(0.5))


@pytest.mark.parametrize("attempt", range(7))
def test_ladder_jitter_stays_within_bounds_and_spans_them(attempt: int) -> None:
    ladder = RetryLadder(jitter=0.2)
    base = DEFAULT_LADDER_SECONDS[attempt]
    low = ladder.delay(attempt, fixed(0.0))
    mid = ladder.delay(attempt, fixed(0.5))
    high = ladder.delay(attempt, fixed(0.999999))
    assert low == pytest.approx(base * 0.8)
    assert mid == pytest.approx(base)
    assert high == pytest.approx(base * 1.2, rel=1e-5)
    rng = random.Random(attempt)
    for _ in range(200):
        delay = ladder.delay(attempt, rng.random)
        assert delay is not None
        assert base * 0.8 <= delay <= base * 1.2


def test_ladder_schedule_never_sooner_than_retry_after() -> None:
    ladder = RetryLadder.parse("5s,5m", jitter=0.0)
    slow_down = Outcome(OutcomeKind.RETRY_AFTER, retry_after=120.0)
    assert ladder.schedule(0, slow_down, fixed(0.5)) == 120.0
    assert ladder.schedule(1, slow_down, fixed(0.5)) == 300.0
    assert ladder.schedule(0, RETRY, fixed(0.5)) == 5.0
    assert ladder.schedule(2, slow_down, fixed(0.5)) is None


@pytest.mark.parametrize(
    "kwargs", [{"tiers": ()}, {"tiers": (5.0, 0.0)}, {"jitter": 1.0}, {"jitter": -0.1}]
)
def test_ladder_refuses_bad_configuration(kwargs: dict[str, object]) -> None:
    with pytest.raises(DeliveryPolicyError):
        RetryLadder(**kwargs)  # type: ignore[arg-type]


# -- classification ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_kind", "retry_after", "kind", "after"),
    [
        (200, None, None, OutcomeKind.DELIVERED, None),
        (204, None, None, OutcomeKind.DELIVERED, None),
        (299, None, 30.0, OutcomeKind.DELIVERED, None),
        (410, None, None, OutcomeKind.DISABLE_SUBSCRIPTION, None),
        (429, None, 30.0, OutcomeKind.RETRY_AFTER, 30.0),
        (503, None, 30.0, OutcomeKind.RETRY_AFTER, 30.0),
        (429, None, None, OutcomeKind.RETRY, None),
        (503, None, None, OutcomeKind.RETRY, None),
        (500, None, 30.0, OutcomeKind.RETRY, None),
        (502, None, None, OutcomeKind.RETRY, None),
        (400, None, None, OutcomeKind.RETRY, None),
        (404, None, None, OutcomeKind.RETRY, None),
        (408, None, None, OutcomeKind.RETRY, None),
        (302, ErrorKind.REDIRECT, None, OutcomeKind.RETRY, None),
        (None, ErrorKind.TIMEOUT, None, OutcomeKind.RETRY, None),
        (None, ErrorKind.CONNECT, None, OutcomeKind.RETRY, None),
        (None, ErrorKind.DNS, None, OutcomeKind.RETRY, None),
        (None, ErrorKind.TLS, None, OutcomeKind.RETRY, None),
        (None, ErrorKind.PROTOCOL, None, OutcomeKind.RETRY, None),
        (None, ErrorKind.ADDRESS_REFUSED, None, OutcomeKind.RETRY, None),
        (None, ErrorKind.INVALID_URL, None, OutcomeKind.DEAD_LETTER, None),
    ],
)
def test_classification_table(
    status: int | None,
    error_kind: ErrorKind | None,
    retry_after: float | None,
    kind: OutcomeKind,
    after: float | None,
) -> None:
    outcome = classify(status, error_kind, retry_after)
    assert outcome.kind is kind
    assert outcome.retry_after == after
    assert outcome.reason


def test_classify_clamps_retry_after_both_ways() -> None:
    clamp = RetryAfterClamp(minimum=2.0, maximum=60.0)
    assert classify(429, None, 0.0, clamp).retry_after == 2.0
    assert classify(429, None, 86400.0, clamp).retry_after == 60.0
    assert classify(503, None, 10.0, clamp).retry_after == 10.0
    with pytest.raises(DeliveryPolicyError):
        RetryAfterClamp(minimum=10.0, maximum=5.0)


def test_classify_attempt_and_retriable_flag() -> None:
    outcome = classify_attempt(AttemptResult(status=429, latency=0.01, retry_after=5.0))
    assert outcome == Outcome(OutcomeKind.RETRY_AFTER, retry_after=5.0, reason="status 429")
    assert outcome.retriable
    assert not classify(200, None).retriable
    assert not classify(410, None).retriable
    with pytest.raises(ValueError, match="status"):
        classify(None, None)


def test_attempt_result_requires_status_or_error() -> None:
    with pytest.raises(ValueError, match="error kind"):
        AttemptResult(status=None, latency=0.0)
    assert AttemptResult(status=201, latency=0.0).succeeded
    assert not AttemptResult(status=302, latency=0.0, error_kind=ErrorKind.REDIRECT).succeeded


# -- Retry-After --------------------------------------------------------------------

NOW = dt.datetime(2015, 10, 21, 7, 28, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 21 Oct 2015 07:30:00 GMT", 120.0),
        ("Wednesday, 21-Oct-15 07:29:00 GMT", 60.0),
        ("Wed Oct 21 07:28:30 2015", 30.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("", None),
    ],
)
def test_parse_retry_after_seconds_and_http_dates(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


# -- short in-process retries ------------------------------------------------------


def test_short_backoff_is_jittered_exponential_and_capped() -> None:
    policy = ShortRetryPolicy(wait_initial=0.1, wait_max=1.0, wait_jitter=0.5, exp_base=2)
    assert [policy.backoff(n, fixed(0.0)) for n in (1, 2, 3, 4, 5)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.0]
    )
    assert policy.backoff(1, fixed(0.5)) == pytest.approx(0.35)
    assert policy.backoff(4, fixed(0.999)) == 1.0
    with pytest.raises(DeliveryPolicyError):
        policy.backoff(0, fixed(0.0))


def test_short_retries_stop_after_attempts_and_at_the_deadline() -> None:
    policy = ShortRetryPolicy(attempts=3, deadline=5.0, wait_jitter=0.0)
    assert policy.next_wait(1, RETRY, elapsed=0.1, rand=fixed(0.0)) == pytest.approx(0.1)
    assert policy.next_wait(2, RETRY, elapsed=0.3, rand=fixed(0.0)) == pytest.approx(0.2)
    assert policy.next_wait(3, RETRY, elapsed=0.6, rand=fixed(0.0)) is None
    # A 10 s timeout already blew the deadline: move on to the durable ladder.
    assert policy.next_wait(1, RETRY, elapsed=10.0, rand=fixed(0.0)) is None


def test_short_retries_honour_retry_after_only_if_it_fits() -> None:
    policy = ShortRetryPolicy(attempts=5, deadline=5.0)
    assert policy.next_wait(1, Outcome(OutcomeKind.RETRY_AFTER, 2.0), 0.5, fixed(0.0)) == 2.0
    assert policy.next_wait(1, Outcome(OutcomeKind.RETRY_AFTER, 30.0), 0.5, fixed(0.0)) is None


@pytest.mark.parametrize(
    "kind", [OutcomeKind.DELIVERED, OutcomeKind.DISABLE_SUBSCRIPTION, OutcomeKind.DEAD_LETTER]
)
def test_final_outcomes_are_not_retried_in_process(kind: OutcomeKind) -> None:
    assert ShortRetryPolicy().next_wait(1, Outcome(kind), 0.0, fixed(0.0)) is None


@pytest.mark.parametrize(
    "kwargs", [{"attempts": 0}, {"deadline": -1.0}, {"wait_jitter": -0.1}, {"exp_base": 0.5}]
)
def test_short_policy_refuses_bad_configuration(kwargs: dict[str, float]) -> None:
    with pytest.raises(DeliveryPolicyError):
        ShortRetryPolicy(**kwargs)  # type: ignore[arg-type]


# -- failing subscriptions ------------------------------------------------------------

DAY = 86400.0


def test_subscription_failing_longer_than_window_is_disabled() -> None:
    health = SubscriptionHealth()
    health = health.after(RETRY, now=0.0)
    health = health.after(Outcome(OutcomeKind.RETRY_AFTER, 5.0), now=DAY)
    assert health.failing_since == 0.0
    assert not health.should_disable(now=3 * DAY)
    assert health.should_disable(now=3 * DAY + 1)
    assert health.should_disable(now=DAY + 1, window=DAY)
    assert "72.0 h" in health.disable_reason(now=3 * DAY)


def test_one_success_resets_the_failure_window() -> None:
    health = SubscriptionHealth().after(RETRY, now=0.0)
    health = health.after(Outcome(OutcomeKind.DELIVERED), now=2 * DAY)
    assert health.failing_since is None
    health = health.after(RETRY, now=2 * DAY + 5)
    assert not health.should_disable(now=4 * DAY)
    assert health.should_disable(now=5 * DAY + 6)
    assert SubscriptionHealth().disable_reason(now=0.0) == ""
