"""The OpenAPI document matches the server: schemathesis against the running API on Kafka.

For every operation, hypothesis generates requests from ``/v1/openapi.json``
(valid ones, and invalid ones that must be refused with a 4xx), half of them
aimed at a subscription that exists. Each answer must be no server error, a
documented status with a documented content type, and match the documented
response schema.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.integration.api_support import api_settings

from cprbroker.api.runner import ApiRunner, start_api
from cprbroker.api.settings import ApiSettings
from cprbroker.core.delivery.callback_url import IpAddress
from cprbroker.core.errors import CallbackUrlError
from cprbroker.core.subscriptions import parse_subscription_request

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


async def offline_resolver(host: str, port: int) -> list[IpAddress]:
    """Generated URLs name random hosts: resolve none of them (no DNS traffic)."""
    if host == "localhost":
        return [ipaddress.ip_address("127.0.0.1")]
    raise CallbackUrlError(f"callback host {host!r} does not resolve")


@dataclass
class LiveApi:
    url: str
    token: str
    subscription_id: str


class ApiThread:
    """The API served by an event loop in a thread, for a synchronous HTTP client."""

    def __init__(self, api_settings: ApiSettings) -> None:
        self._settings = api_settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._api: ApiRunner | None = None

    def start(self) -> LiveApi:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=180)

    async def _start(self) -> LiveApi:
        self._api = await start_api(self._settings, resolver=offline_resolver)
        await self._api.wait_ready()
        _, token = await self._api.state.clients.create("schemathesis")
        request = parse_subscription_request(
            {"name": "existing", "endpoint": {"url": "http://127.0.0.1:9/hook"}, "filter": {}},
            known_event_types=(),
        )
        subscription = request.to_subscription(
            "existing-subscription", "schemathesis", datetime.now(UTC)
        )
        await self._api.state.subscriptions.put(subscription)
        return LiveApi(self._api.url, token, subscription.id)

    def stop(self) -> None:
        if self._api is not None:
            asyncio.run_coroutine_threadsafe(self._api.stop(), self._loop).result(timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


@pytest.fixture
def live_api(kafka_bootstrap: str) -> Iterator[LiveApi]:
    server = ApiThread(api_settings(kafka_bootstrap))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.mark.slow
# schemathesis's strategies draw from `random`, which hypothesis deprecates.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_server_matches_its_openapi_document(live_api: LiveApi) -> None:
    schema = schemathesis.openapi.from_url(f"{live_api.url}/v1/openapi.json")
    headers = {"Authorization": f"Bearer {live_api.token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 14  # subscriptions 5, CPR-number lists 5, deliveries 4
    for operation in operations:
        targets = [False, True] if "{id}" in operation.path else [False]
        for mode, existing in itertools.product(
            (GenerationMode.POSITIVE, GenerationMode.NEGATIVE), targets
        ):
            checks = (
                [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS
            )
            _exercise(
                operation.as_strategy(generation_mode=mode), live_api, headers, checks, existing
            )


def _exercise(
    strategy: st.SearchStrategy[schemathesis.Case],
    live_api: LiveApi,
    headers: dict[str, str],
    checks: list[Any],
    existing: bool,
) -> None:
    @given(case=strategy)
    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: schemathesis.Case) -> None:
        if existing:
            case.path_parameters = {**(case.path_parameters or {}), "id": live_api.subscription_id}
        case.call_and_validate(base_url=live_api.url, headers=headers, checks=checks)

    exercise()
