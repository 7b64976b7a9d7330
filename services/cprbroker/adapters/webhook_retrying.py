"""Short in-process retries of one webhook delivery, with tenacity applying the
pure :class:`~cprbroker.core.delivery.retry.ShortRetryPolicy`.

They last seconds at most; whatever is still failing after them is the
delivery role's to hand to the durable retry ladder.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_result

from cprbroker.core.delivery.attempt import AttemptResult
from cprbroker.core.delivery.retry import (
    Outcome,
    RandomSource,
    RetryAfterClamp,
    ShortRetryPolicy,
    classify_attempt,
)


@dataclass(frozen=True, slots=True)
class ShortRetryReport:
    """The last attempt's result and outcome, and how many attempts were made."""

    result: AttemptResult
    outcome: Outcome
    attempts: int


def _last_result(state: RetryCallState) -> AttemptResult:
    if state.outcome is None:
        raise RuntimeError("tenacity called back before any attempt finished")
    result: AttemptResult = state.outcome.result()
    return result


async def send_with_short_retries(
    attempt: Callable[[], Awaitable[AttemptResult]],
    policy: ShortRetryPolicy,
    clamp: RetryAfterClamp | None = None,
    *,
    rand: RandomSource = random.random,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ShortRetryReport:
    """Call ``attempt`` until its outcome is final or ``policy`` gives up, waiting
    the policy's backoff (or the endpoint's clamped Retry-After) in between.

    ``attempt`` builds and sends one request; it is called afresh each time so
    the signature carries a fresh timestamp. Exceptions from it propagate: it
    is expected to report failures as :class:`AttemptResult`.
    """
    clamp = clamp or RetryAfterClamp()
    attempts = 0

    async def counted() -> AttemptResult:
        nonlocal attempts
        attempts += 1
        return await attempt()

    def wait(state: RetryCallState) -> float:
        outcome = classify_attempt(_last_result(state), clamp)
        return policy.wait(state.attempt_number, outcome, rand)

    def stop(state: RetryCallState) -> bool:
        elapsed = state.seconds_since_start or 0.0
        return policy.gives_up(state.attempt_number, elapsed, state.upcoming_sleep)

    retrying = AsyncRetrying(
        retry=retry_if_result(lambda result: classify_attempt(result, clamp).retriable),
        wait=wait,
        stop=stop,
        sleep=sleep,
        # When the policy gives up, hand back the last result instead of raising.
        retry_error_callback=_last_result,
        reraise=True,
    )
    result: AttemptResult = await retrying(counted)
    return ShortRetryReport(result, classify_attempt(result, clamp), attempts)
