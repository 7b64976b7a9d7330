"""Helpers for the API's integration tests: settings on fresh topics, a running API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from cprbroker.api.runner import ApiRunner, start_api
from cprbroker.api.settings import ApiSettings
from cprbroker.core.topics import TopicNames


def api_settings(kafka_bootstrap: str) -> ApiSettings:
    """API settings on topics of their own (loopback callbacks admitted)."""
    run = uuid.uuid4().hex[:8]
    topics = replace(
        TopicNames(),
        subscriptions=f"test.api.{run}.subscriptions",
        subscription_pnrs=f"test.api.{run}.subscription-pnrs",
        clients=f"test.api.{run}.clients",
        audit=f"test.api.{run}.audit",
    )
    return ApiSettings(
        host="127.0.0.1",
        port=0,
        bootstrap_servers=kafka_bootstrap,
        topics=topics,
        known_pnrs_topic=f"test.api.{run}.known-pnrs",
        callback_allow_cidrs=("127.0.0.0/8",),
        topic_partitions=3,
    )


@asynccontextmanager
async def running(settings: ApiSettings) -> AsyncIterator[tuple[ApiRunner, aiohttp.ClientSession]]:
    """An API process on ``settings`` with a client session on its URL."""
    api = await start_api(settings)
    try:
        await api.wait_ready()
        async with aiohttp.ClientSession(base_url=api.url) as http:
            yield api, http
    finally:
        await api.stop()


async def bearer(api: ApiRunner, name: str, **entitlements: Any) -> dict[str, str]:
    """Register client ``name`` on ``api``; its Authorization header."""
    _, token = await api.state.clients.create(name, **entitlements)
    return {"Authorization": f"Bearer {token}"}


async def eventually(check: Callable[[], Awaitable[bool]], what: str, deadline: float = 60) -> None:
    """Poll ``check`` until true; fail after ``deadline`` seconds (generous on purpose)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not await check():
        if loop.time() > end:
            pytest.fail(f"not within {deadline}s: {what}")
        await asyncio.sleep(0.2)
