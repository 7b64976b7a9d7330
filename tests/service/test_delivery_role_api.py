"""The API's delivery routes (attempt log, redeliver, replay, test ping) over
in-memory fakes; the ping goes to a real receiver on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from standardwebhooks.webhooks import Webhook
from tests.service.api_harness import EVENT_TYPES, FakeTopics, fake_resolver
from tests.service.delivery_harness import (
    LOOPBACK_CIDRS,
    SECRET,
    Receiver,
    make_event,
    serve_receiver,
    status,
)

from cprbroker.adapters.client_registry import ClientRegistry
from cprbroker.adapters.delivery_attempts import AttemptLogEntry, AttemptStatus
from cprbroker.adapters.delivery_desk import InMemoryDeliveryDesk
from cprbroker.adapters.delivery_records import EventRef, Origin
from cprbroker.adapters.known_persons import InMemoryKnownPersons
from cprbroker.adapters.subscription_state import SubscriptionStore
from cprbroker.adapters.webhook_http import WebhookHttpSettings, WebhookSender
from cprbroker.api.app import build_app
from cprbroker.api.callbacks import CallbackCheck
from cprbroker.api.context import ApiContext
from cprbroker.api.deliveries import DELIVERY_DESK
from cprbroker.api.settings import ApiSettings
from cprbroker.core.delivery.callback_url import AddressPolicy
from cprbroker.core.delivery.cloudevents import webhook_message_id
from cprbroker.core.events.serial import event_to_dict
from cprbroker.core.subscriptions import SubscriptionStatus
from cprbroker.core.topics import TopicNames

NOW = datetime.now(UTC)


@dataclass
class Api:
    http: TestClient[Any, Any]
    desk: InMemoryDeliveryDesk
    store: SubscriptionStore
    cluster: FakeTopics
    headers: dict[str, str]
    other_headers: dict[str, str]

    async def subscribe(self, url: str, **body: Any) -> str:
        document = {
            "name": "Flytninger",
            "endpoint": {"url": url, "secret": SECRET},
            "filter": {"municipalities": ["0101"]},
            **body,
        }
        response = await self.http.post("/v1/subscriptions", json=document, headers=self.headers)
        assert response.status == 201, await response.text()
        subscription_id: str = (await response.json())["id"]
        return subscription_id


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver() as served:
        yield served


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    cluster = FakeTopics()
    settings = ApiSettings(callback_allow_cidrs=LOOPBACK_CIDRS)
    clients = ClientRegistry(cluster.open_log, settings.topics.clients)
    store = SubscriptionStore(cluster.open_log, TopicNames())
    for log in (clients.log, *store.logs):
        await log.start()
    ctx = ApiContext(
        settings=settings,
        clients=clients,
        subscriptions=store,
        known_persons=InMemoryKnownPersons(),
        audit=cluster.audit,
        callbacks=CallbackCheck(settings.callback_allow_cidrs, fake_resolver),
        known_event_types=EVENT_TYPES,
    )
    policy = AddressPolicy.from_cidrs(LOOPBACK_CIDRS)
    async with WebhookSender(policy, WebhookHttpSettings(timeout=2.0)) as sender:
        desk = InMemoryDeliveryDesk(sender=sender)
        app = build_app(ctx)
        app[DELIVERY_DESK] = desk
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        _, token = await clients.create("sagssystem")
        _, other = await clients.create("andet-system")
        try:
            yield Api(
                client,
                desk,
                store,
                cluster,
                {"Authorization": f"Bearer {token}"},
                {"Authorization": f"Bearer {other}"},
            )
        finally:
            await client.close()
    for log in (clients.log, *store.logs):
        await log.stop()


def entry(subscription_id: str, n: int, status: AttemptStatus, **changes: Any) -> AttemptLogEntry:
    event = make_event(n)
    values: dict[str, Any] = {
        "at": time.time(),
        "subscription_id": subscription_id,
        "delivery_id": webhook_message_id(subscription_id, event.id),
        "event_id": event.id,
        "event_type": event.type,
        "attempt": 1,
        "status": status,
        "stage": "send",
        "http_status": 200 if status is AttemptStatus.DELIVERED else 500,
        "latency_ms": 3.5,
        "event_ref": EventRef("cpr.events", 0, n, int(time.time() * 1000)),
    }
    values.update(changes)
    return AttemptLogEntry(**values)


async def test_the_attempt_log_pages_and_filters_by_status(api: Api) -> None:
    mine = await api.subscribe("http://127.0.0.1:9/hook")
    api.desk.entries.extend(
        [
            entry(mine, 1, AttemptStatus.FAILED, error="status 500"),
            entry("someone-else", 2, AttemptStatus.DELIVERED),
            entry(mine, 1, AttemptStatus.DELIVERED, attempt=2),
            entry(mine, 3, AttemptStatus.DELIVERED),
        ]
    )
    url = f"/v1/subscriptions/{mine}/deliveries"

    response = await api.http.get(url, params={"limit": "2"}, headers=api.headers)
    assert response.status == 200
    page = await response.json()
    assert [(d["status"], d["attempt"], d["http_status"]) for d in page["deliveries"]] == [
        ("failed", 1, 500),
        ("delivered", 2, 200),
    ]
    assert page["deliveries"][0]["error"] == "status 500"
    assert "event_ref" not in page["deliveries"][0]
    response = await api.http.get(
        url, params={"limit": "2", "cursor": page["next_cursor"]}, headers=api.headers
    )
    rest = await response.json()
    assert [d["event_id"] for d in rest["deliveries"]] == [make_event(3).id]
    assert rest["next_cursor"] is None

    response = await api.http.get(url, params={"status": "failed"}, headers=api.headers)
    assert [d["attempt"] for d in (await response.json())["deliveries"]] == [1]
    assert [e.action for e in api.cluster.audit.entries][-1] == "deliveries.list"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"status": "lost"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2024-01-01T00:00:00"}, "since"),
        ({"cursor": "abc"}, "cursor"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_query_parameters_are_refused(
    api: Api, params: dict[str, str], parameter: str
) -> None:
    mine = await api.subscribe("http://127.0.0.1:9/hook")
    response = await api.http.get(
        f"/v1/subscriptions/{mine}/deliveries", params=params, headers=api.headers
    )
    assert response.status == 400
    assert (await response.json())["parameter"] == parameter


async def test_another_clients_deliveries_are_not_found(api: Api) -> None:
    mine = await api.subscribe("http://127.0.0.1:9/hook")
    for method, path in [
        ("GET", f"/v1/subscriptions/{mine}/deliveries"),
        ("POST", f"/v1/subscriptions/{mine}/test"),
        ("POST", f"/v1/subscriptions/{mine}/deliveries/msg_x/redeliver"),
    ]:
        response = await api.http.request(method, path, headers=api.other_headers)
        assert response.status == 404


async def test_redeliver_queues_the_same_delivery_again(api: Api) -> None:
    mine = await api.subscribe("http://127.0.0.1:9/hook")
    logged = entry(mine, 5, AttemptStatus.DEAD_LETTERED)
    assert logged.event_ref is not None
    api.desk.entries.append(logged)
    api.desk.events.append((logged.event_ref, event_to_dict(make_event(5))))
    path = f"/v1/subscriptions/{mine}/deliveries/{logged.delivery_id}/redeliver"

    response = await api.http.post(path, headers=api.headers)
    assert response.status == 202
    assert await response.json() == {"delivery_id": logged.delivery_id, "status": "queued"}
    (queued,) = api.desk.queued
    assert (queued.message_id, queued.origin, queued.retries) == (
        logged.delivery_id,
        Origin.REDELIVER,
        0,
    )
    unknown = await api.http.post(
        f"/v1/subscriptions/{mine}/deliveries/msg_unknown/redeliver", headers=api.headers
    )
    assert unknown.status == 404


async def test_redelivery_and_replay_need_an_active_subscription(api: Api) -> None:
    mine = await api.subscribe("http://127.0.0.1:9/hook")
    current = api.store.get(mine)
    assert current is not None
    await api.store.put(replace(current, status=SubscriptionStatus.disabled("gone")))
    replayed = await api.http.post(
        f"/v1/subscriptions/{mine}/replay",
        json={"since": "2024-01-01T00:00:00Z"},
        headers=api.headers,
    )
    assert replayed.status == 409
    again = await api.http.post(
        f"/v1/subscriptions/{mine}/deliveries/msg_x/redeliver", headers=api.headers
    )
    assert again.status == 409


async def test_replay_queues_matching_events_since_the_time(api: Api) -> None:
    mine = await api.subscribe("http://127.0.0.1:9/hook")
    before = int((NOW - timedelta(hours=2)).timestamp() * 1000)
    after = int(NOW.timestamp() * 1000)
    for n, (municipality, stamp) in enumerate(
        [("0101", before), ("0101", after), ("0147", after), ("0101", after)]
    ):
        event = make_event(n, municipality=municipality, before="0147")
        ref = EventRef("cpr.events", 0, n, stamp)
        api.desk.events.append((ref, event_to_dict(event)))
    since = (NOW - timedelta(hours=1)).isoformat()

    response = await api.http.post(
        f"/v1/subscriptions/{mine}/replay", json={"since": since}, headers=api.headers
    )
    assert response.status == 202
    answer = await response.json()
    assert (answer["events_scanned"], answer["deliveries_queued"]) == (3, 2)
    assert [r.event_id for r in api.desk.queued] == [make_event(1).id, make_event(3).id]
    assert {r.origin for r in api.desk.queued} == {Origin.REPLAY}
    audit = api.cluster.audit.entries[-1]
    assert (audit.action, audit.criteria) == ("deliveries.replay", {"since": since})


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/since"),
        ({"since": "last week"}, "/since"),
        ({"since": "2024-01-01T00:00:00"}, "/since"),
        ({"since": "2024-01-01T00:00:00Z", "until": "now"}, ""),
        ([], ""),
    ],
)
async def test_replay_refuses_a_bad_body(api: Api, body: Any, pointer: str) -> None:
    mine = await api.subscribe("http://127.0.0.1:9/hook")
    response = await api.http.post(
        f"/v1/subscriptions/{mine}/replay", json=body, headers=api.headers
    )
    assert response.status == 422
    assert (await response.json())["pointer"] == pointer


async def test_a_test_ping_is_signed_and_reports_the_answer(api: Api, receiver: Receiver) -> None:
    mine = await api.subscribe(receiver.url())
    response = await api.http.post(f"/v1/subscriptions/{mine}/test", headers=api.headers)
    assert response.status == 200
    answer = await response.json()
    assert (answer["delivered"], answer["http_status"], answer["error"]) == (True, 200, None)
    (arrival,) = receiver.arrivals
    envelope = Webhook(SECRET).verify(arrival.body, arrival.headers)
    assert envelope["type"] == "cpr.ping"
    assert envelope["data"]["subscription_id"] == mine
    assert arrival.webhook_id == answer["delivery_id"]
    assert api.desk.entries[-1].status is AttemptStatus.PING

    receiver.default("/hook", status(500))
    failed = await (
        await api.http.post(f"/v1/subscriptions/{mine}/test", headers=api.headers)
    ).json()
    assert (failed["delivered"], failed["http_status"], failed["error"]) == (
        False,
        500,
        "status 500",
    )
