"""The API's delivery routes with the delivery role, both on the real Kafka:
the attempt log read back, a redelivery, a replay since a time, a test ping."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from standardwebhooks.webhooks import Webhook
from tests.integration.delivery_support import delivery_settings, publish, running
from tests.service.delivery_harness import (
    LOOPBACK_CIDRS,
    SECRET,
    Receiver,
    eventually,
    make_event,
    serve_receiver,
)

from cprbroker.api.runner import start_api
from cprbroker.api.settings import ApiSettings

pytestmark = pytest.mark.slow


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver() as served:
        yield served


async def poll_json(
    http: aiohttp.ClientSession, path: str, headers: dict[str, str], ready: Any
) -> Any:
    """GET ``path`` until ``ready(document)`` holds (generous deadline)."""
    deadline = time.monotonic() + 60
    while True:
        async with http.get(path, headers=headers) as response:
            assert response.status == 200, await response.text()
            document = await response.json()
        if ready(document) or time.monotonic() > deadline:
            return document
        await asyncio.sleep(0.3)


async def page_through(
    http: aiohttp.ClientSession, path: str, headers: dict[str, str]
) -> list[str]:
    """The delivery ids of every page from ``path`` on, following next_cursor."""
    ids: list[str] = []
    url: str | None = path
    while url is not None:
        async with http.get(url, headers=headers) as response:
            document = await response.json()
        ids.extend(d["delivery_id"] for d in document["deliveries"])
        cursor = document["next_cursor"]
        url = None if cursor is None else f"{path}&cursor={cursor}"
    return ids


async def test_attempt_log_redeliver_replay_and_ping_through_the_api(
    kafka_bootstrap: str, receiver: Receiver
) -> None:
    settings = delivery_settings(kafka_bootstrap)
    api_settings = ApiSettings(
        host="127.0.0.1",
        port=0,
        bootstrap_servers=kafka_bootstrap,
        topics=settings.topics,
        known_pnrs_topic=f"test.dlv.{uuid.uuid4().hex[:8]}.known-pnrs",
        callback_allow_cidrs=LOOPBACK_CIDRS,
        topic_partitions=3,
    )
    api = await start_api(api_settings)
    try:
        await api.wait_ready()
        _, token = await api.state.clients.create("sagssystem")
        headers = {"Authorization": f"Bearer {token}"}
        async with running(settings), aiohttp.ClientSession(base_url=api.url) as http:
            body = {
                "name": "Alle hændelser",
                "endpoint": {"url": receiver.url(), "secret": SECRET},
                "filter": {},
            }
            async with http.post("/v1/subscriptions", json=body, headers=headers) as created:
                assert created.status == 201, await created.text()
                subscription_id = (await created.json())["id"]
            started = datetime.now(UTC)
            events = [make_event(n) for n in range(3)]
            await publish(kafka_bootstrap, settings.topics.events, events)
            await eventually(lambda: len(receiver.ids()) == 3, timeout=60)

            base = f"/v1/subscriptions/{subscription_id}"
            page = await poll_json(
                http,
                base + "/deliveries",
                headers,
                lambda doc: len(doc["deliveries"]) >= 3,
            )
            delivered = page["deliveries"]
            assert {d["status"] for d in delivered} == {"delivered"}
            assert {d["delivery_id"] for d in delivered} == receiver.ids()
            # Entries are stored in batches; paging two at a time still shows each once.
            paged = await page_through(http, base + "/deliveries?limit=2", headers)
            assert paged == [d["delivery_id"] for d in delivered]

            first = delivered[0]["delivery_id"]
            async with http.post(f"{base}/deliveries/{first}/redeliver", headers=headers) as again:
                assert again.status == 202, await again.text()
            await eventually(lambda: len(receiver.arrivals) == 4, timeout=60)
            assert receiver.arrivals[-1].webhook_id == first

            since = (started - timedelta(minutes=1)).isoformat()
            async with http.post(f"{base}/replay", json={"since": since}, headers=headers) as r:
                assert r.status == 202, await r.text()
                assert await r.json() == {
                    "since": since,
                    "events_scanned": 3,
                    "deliveries_queued": 3,
                }
            await eventually(lambda: len(receiver.arrivals) == 7, timeout=60)
            assert {a.webhook_id for a in receiver.arrivals[4:]} == receiver.ids()

            async with http.post(f"{base}/test", headers=headers) as pinged:
                assert pinged.status == 200
                answer = await pinged.json()
            assert (answer["delivered"], answer["http_status"]) == (True, 200)
            ping = receiver.arrivals[-1]
            assert Webhook(SECRET).verify(ping.body, ping.headers)["type"] == "cpr.ping"
            pings = await poll_json(
                http,
                base + "/deliveries?status=ping",
                headers,
                lambda doc: len(doc["deliveries"]) == 1,
            )
            assert pings["deliveries"][0]["delivery_id"] == answer["delivery_id"]
    finally:
        await api.stop()
