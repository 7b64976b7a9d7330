"""Short in-process retries (tenacity applying ShortRetryPolicy) against a real
server, and the per-subscription concurrency limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from cprbroker.adapters.webhook_http import WebhookHttpSettings, WebhookSender
from cprbroker.adapters.webhook_isolation import SubscriptionLimiter
from cprbroker.adapters.webhook_retrying import ShortRetryReport, send_with_short_retries
from cprbroker.core.delivery.attempt import AttemptResult, ErrorKind
from cprbroker.core.delivery.callback_url import AddressPolicy
from cprbroker.core.delivery.payload import PayloadLevel
from cprbroker.core.delivery.request import build_request
from cprbroker.core.delivery.retry import OutcomeKind, RetryAfterClamp, ShortRetryPolicy
from cprbroker.core.delivery.signing import EndpointSecrets, generate_secret
from cprbroker.core.errors import DeliveryPolicyError

SECRET = generate_secret()
POLICY = ShortRetryPolicy(attempts=4, deadline=5.0, wait_initial=0.1, wait_jitter=0.0)


class Script:
    """Statuses the server answers in turn (the last one repeats)."""

    def __init__(self, *answers: tuple[int, dict[str, str]]) -> None:
        self.answers = list(answers)
        self.timestamps: list[str] = []
        self.ids: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.timestamps.append(request.headers["webhook-timestamp"])
        self.ids.append(request.headers["webhook-id"])
        status, headers = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return web.Response(status=status, headers=headers)


@pytest.fixture
async def serve() -> AsyncIterator[list[web.AppRunner]]:
    runners: list[web.AppRunner] = []
    yield runners
    for runner in runners:
        await runner.cleanup()


async def _url(runners: list[web.AppRunner], script: Script) -> str:
    app = web.Application()
    app.router.add_post("/hook", script.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    runners.append(runner)
    return f"http://127.0.0.1:{runner.addresses[0][1]}/hook"


async def _run(
    url: str, clamp: RetryAfterClamp | None = None
) -> tuple[ShortRetryReport, list[float]]:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = AddressPolicy.from_cidrs(["127.0.0.0/8"])
    async with WebhookSender(policy, WebhookHttpSettings(timeout=2.0)) as sender:

        async def attempt() -> AttemptResult:
            request = build_request(
                {"id": "ev-1", "type": "t", "pnr": "0101709995", "occurred_at": "2024-01-01T00:00"},
                subscription_id="sub-1",
                level=PayloadLevel.THIN,
                may_see_protected=False,
                secrets=EndpointSecrets(current=SECRET),
                now=time.time(),
            )
            return await sender.send(url, request)

        report = await send_with_short_retries(
            attempt, POLICY, clamp, rand=lambda: 0.0, sleep=fake_sleep
        )
    return report, waits


async def test_transient_failures_are_retried_until_delivered(
    serve: list[web.AppRunner],
) -> None:
    script = Script((500, {}), (502, {}), (204, {}))
    report, waits = await _run(await _url(serve, script))
    assert report.outcome.kind is OutcomeKind.DELIVERED
    assert report.attempts == 3
    assert waits == pytest.approx([0.1, 0.2])
    assert len(set(script.ids)) == 1  # the same webhook-id on every retry


async def test_persistent_failure_gives_up_after_the_policy_attempts(
    serve: list[web.AppRunner],
) -> None:
    script = Script((500, {}))
    report, waits = await _run(await _url(serve, script))
    assert report.outcome.kind is OutcomeKind.RETRY
    assert report.result.status == 500
    assert report.attempts == 4
    assert waits == pytest.approx([0.1, 0.2, 0.4])


async def test_gone_is_final_and_not_retried(serve: list[web.AppRunner]) -> None:
    script = Script((410, {}), (204, {}))
    report, waits = await _run(await _url(serve, script))
    assert report.outcome.kind is OutcomeKind.DISABLE_SUBSCRIPTION
    assert report.attempts == 1
    assert waits == []


async def test_retry_after_within_the_deadline_is_waited_in_process(
    serve: list[web.AppRunner],
) -> None:
    script = Script((429, {"Retry-After": "2"}), (204, {}))
    report, waits = await _run(await _url(serve, script))
    assert report.outcome.kind is OutcomeKind.DELIVERED
    assert waits == [2.0]


async def test_retry_after_beyond_the_deadline_goes_to_the_ladder(
    serve: list[web.AppRunner],
) -> None:
    script = Script((503, {"Retry-After": "600"}), (204, {}))
    report, waits = await _run(await _url(serve, script), RetryAfterClamp(maximum=300.0))
    outcome = report.outcome
    assert (outcome.kind, outcome.retry_after) == (OutcomeKind.RETRY_AFTER, 300.0)
    assert report.attempts == 1
    assert waits == []


async def test_connection_errors_are_retried() -> None:
    calls = 0

    async def attempt() -> AttemptResult:
        nonlocal calls
        calls += 1
        if calls < 3:
            return AttemptResult(None, 0.01, ErrorKind.CONNECT)
        return AttemptResult(200, 0.01)

    async def no_sleep(seconds: float) -> None:
        return None

    report = await send_with_short_retries(attempt, POLICY, rand=lambda: 0.0, sleep=no_sleep)
    assert (report.outcome.kind, report.attempts) == (OutcomeKind.DELIVERED, 3)


# -- per-subscription concurrency ------------------------------------------------------


async def test_limiter_caps_concurrency_per_subscription_only() -> None:
    limiter = SubscriptionLimiter(per_subscription=2)
    running: dict[str, int] = {"a": 0, "b": 0}
    peak: dict[str, int] = {"a": 0, "b": 0}
    gate = asyncio.Event()

    async def work(key: str) -> None:
        async with limiter.slot(key):
            running[key] += 1
            peak[key] = max(peak[key], running[key])
            await gate.wait()
            running[key] -= 1

    tasks = [asyncio.create_task(work("a")) for _ in range(5)]
    tasks.append(asyncio.create_task(work("b")))
    await asyncio.sleep(0.01)
    assert running == {"a": 2, "b": 1}
    assert limiter.in_flight("a") == 5
    assert limiter.subscriptions == 2
    gate.set()
    await asyncio.gather(*tasks)
    assert peak == {"a": 2, "b": 1}
    assert limiter.in_flight("a") == 0
    assert limiter.subscriptions == 0


def test_limiter_refuses_zero() -> None:
    with pytest.raises(DeliveryPolicyError):
        SubscriptionLimiter(per_subscription=0)


async def test_limiter_waiter_cancelled_in_the_queue_or_after_handover() -> None:
    limiter = SubscriptionLimiter(per_subscription=1)
    release = asyncio.Event()
    order: list[str] = []

    async def work(name: str) -> None:
        async with limiter.slot("a"):
            order.append(name)
            await release.wait()

    first = asyncio.create_task(work("first"))
    queued = asyncio.create_task(work("queued"))
    handed = asyncio.create_task(work("handed"))
    last = asyncio.create_task(work("last"))
    await asyncio.sleep(0)
    assert limiter.in_flight("a") == 4
    queued.cancel()  # cancelled while waiting: leaves the queue
    await asyncio.sleep(0)
    assert limiter.in_flight("a") == 3
    release.set()
    await asyncio.sleep(0)  # "first" finishes and hands its slot to "handed"
    assert first.done()
    handed.cancel()  # cancelled before it ran: it passes the slot on
    await asyncio.gather(queued, handed, last, return_exceptions=True)
    assert order == ["first", "last"]
    assert limiter.in_flight("a") == 0
    assert limiter.subscriptions == 0
