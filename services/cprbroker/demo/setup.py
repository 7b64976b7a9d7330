"""The demo's subscribing system: an API client (registered in the clients
topic, as ``cprbroker clients create`` does) and a catch-all subscription
created through the REST API, as an integrator would, pointing at the demo
receiver with a secret the demo chose (so the receiver can verify)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from cprbroker.adapters.client_registry import ClientRegistry
from cprbroker.core.errors import ApiClientError, CprBrokerError

CLIENT_NAME = "demo"
SUBSCRIPTION_NAME = "demo: every event"


class DemoSetupError(CprBrokerError):
    """The API refused the demo's subscription (the message has its answer)."""

    retriable = False


@dataclass(frozen=True, slots=True)
class DemoSubscriber:
    """The demo client's token and its subscription's id."""

    token: str
    subscription_id: str


def subscription_request(receiver_url: str, secret: str) -> dict[str, Any]:
    """The subscription document: every event (empty filter), full payload."""
    return {
        "name": SUBSCRIPTION_NAME,
        "endpoint": {"url": receiver_url, "secret": secret},
        "filter": {},
        "payload_level": "full",
    }


async def create_subscriber(
    clients: ClientRegistry, api_url: str, receiver_url: str, secret: str
) -> DemoSubscriber:
    """Register the demo client and create its subscription through the API.

    Raises ApiClientError when the client exists already, DemoSetupError
    when the API does not answer 201.
    """
    if clients.get(CLIENT_NAME) is not None:
        raise ApiClientError(
            f"client {CLIENT_NAME!r} exists already on this Kafka; the demo needs a fresh one"
        )
    _, token = await clients.create(CLIENT_NAME, protected_data=False)
    headers = {"Authorization": f"Bearer {token}", "X-On-Behalf-Of": "demo-user"}
    timeout = aiohttp.ClientTimeout(total=60)
    url = f"{api_url}/v1/subscriptions"
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(
                url, json=subscription_request(receiver_url, secret), headers=headers
            ) as response,
        ):
            body = await response.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DemoSetupError(f"POST {url} failed: {exc}") from exc
    if response.status != 201:
        raise DemoSetupError(f"POST {url} answered {response.status}: {body[:500]}")
    try:
        document = json.loads(body)
        return DemoSubscriber(token=token, subscription_id=str(document["id"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise DemoSetupError(f"POST {url} answered 201 without an id: {body[:500]}") from exc
