"""The subscription API on a real Kafka, driven over HTTP.

Each test gets its own topics. Nothing here asserts on timing: where another
process must catch up, the test polls with a generous deadline.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from tests.integration.api_support import api_settings, bearer, eventually, running

from cprbroker.adapters.audit_log import read_audit
from cprbroker.adapters.known_persons import TopicKnownPersons
from cprbroker.adapters.state_store import KafkaStateLog
from cprbroker.api.runner import new_producer
from cprbroker.api.settings import ApiSettings
from cprbroker.core.audit import AuditQuery

AKSEL = "0701614011"
ERNA = "0707614226"
HOOK = "http://127.0.0.1:9/hook"  # loopback, admitted by the test allow-list


@pytest.fixture
def settings(kafka_bootstrap: str) -> ApiSettings:
    return api_settings(kafka_bootstrap)


async def create(http: aiohttp.ClientSession, headers: dict[str, str], **body: Any) -> str:
    document = {
        "name": "Flytninger",
        "endpoint": {"url": HOOK},
        "filter": {"pnr_list": True, "municipalities": ["0101", "0851"]},
        **body,
    }
    response = await http.post("/v1/subscriptions", json=document, headers=headers)
    assert response.status == 201, await response.text()
    created = await response.json()
    assert created["endpoint"]["secret"].startswith("whsec_")
    return f"/v1/subscriptions/{created['id']}"


async def test_lifecycle_of_a_subscription_and_its_list(settings: ApiSettings) -> None:
    async with running(settings) as (api, http):
        headers = await bearer(api, "sagssystem")
        url = await create(http, headers)
        # Read-your-writes: the GET right after the POST sees it.
        read = await http.get(url, headers=headers)
        assert read.status == 200
        assert "secret" not in (await read.json())["endpoint"]

        put = await http.put(f"{url}/pnrs/{AKSEL}", headers=headers)
        assert (put.status, await put.json()) == (201, {"result": "ADDED"})
        again = await http.put(f"{url}/pnrs/{AKSEL}", headers=headers)
        assert (again.status, await again.json()) == (200, {"result": "ALREADY_EXISTED"})
        batch = await http.post(
            f"{url}/pnrs:batch", json={"add": [ERNA], "remove": [AKSEL]}, headers=headers
        )
        assert await batch.json() == {
            "add": [{"pnr": ERNA, "result": "ADDED"}],
            "remove": [{"pnr": AKSEL, "result": "REMOVED"}],
        }
        page = await (await http.get(f"{url}/pnrs", headers=headers)).json()
        assert page == {"pnrs": [ERNA], "next_cursor": None, "total": 1}
        gone = await http.delete(f"{url}/pnrs/{AKSEL}", headers=headers)
        assert (gone.status, await gone.json()) == (404, {"result": "NOT_SUBSCRIBED"})

        patched = await http.patch(url, json={"status": "paused"}, headers=headers)
        assert (await patched.json())["status"] == "paused"
        assert (await (await http.get(url, headers=headers)).json())["status"] == "paused"

        cleared = await http.delete(f"{url}/pnrs", headers=headers)
        assert await cleared.json() == {"result": "REMOVED", "removed": 1}
        assert (await http.delete(url, headers=headers)).status == 204
        assert (await http.get(url, headers=headers)).status == 404


async def test_clients_see_only_their_own(settings: ApiSettings) -> None:
    async with running(settings) as (api, http):
        alice = await bearer(api, "alice")
        bob = await bearer(api, "bob")
        admin = await bearer(api, "ops", admin=True)
        url = await create(http, alice)
        assert (await http.get(url, headers=bob)).status == 404
        assert (await http.patch(url, json={"name": "x"}, headers=bob)).status == 404
        assert (await http.put(f"{url}/pnrs/{AKSEL}", headers=bob)).status == 404
        assert (await http.delete(url, headers=bob)).status == 404
        assert (await (await http.get("/v1/subscriptions", headers=bob)).json()) == {
            "subscriptions": []
        }
        assert (await http.get(url, headers=admin)).status == 200
        assert (await http.get(url, headers=alice)).status == 200
        assert (await http.get("/v1/subscriptions")).status == 401
        await api.state.clients.revoke("bob")
        assert (await http.get("/v1/subscriptions", headers=bob)).status == 403


async def test_restart_rebuilds_the_same_state(settings: ApiSettings) -> None:
    async with running(settings) as (api, http):
        headers = await bearer(api, "sagssystem")
        url = await create(http, headers)
        numbers = [f"0101{yy:02d}{serial:04d}" for yy in (61, 62) for serial in range(1000, 1150)]
        await http.post(f"{url}/pnrs:batch", json={"add": numbers}, headers=headers)
        await http.delete(f"{url}/pnrs/{numbers[0]}", headers=headers)
        deleted = await create(http, headers, name="short-lived")
        await http.delete(deleted, headers=headers)
        before = await (await http.get(url, headers=headers)).json()
        listing = await (await http.get(f"{url}/pnrs", headers=headers)).json()
    async with running(settings) as (_, http):
        after = await http.get(url, headers=headers)
        assert after.status == 200, "the client and the subscription came back from the topics"
        assert await after.json() == before
        assert await (await http.get(f"{url}/pnrs", headers=headers)).json() == listing
        assert listing["total"] == len(numbers) - 1
        assert (await http.get(deleted, headers=headers)).status == 404


async def test_two_api_processes_see_each_others_writes(settings: ApiSettings) -> None:
    async with running(settings) as (first, one), running(settings) as (_, two):
        headers = await bearer(first, "sagssystem")

        async def client_known() -> bool:
            return (await two.get("/v1/subscriptions", headers=headers)).status == 200

        await eventually(client_known, "the second process knows the new client")
        url = await create(two, headers)

        async def seen_by_first() -> bool:
            return (await one.get(url, headers=headers)).status == 200

        await eventually(seen_by_first, "the first process sees a subscription made on the second")
        await one.put(f"{url}/pnrs/{AKSEL}", headers=headers)

        async def listed_on_second() -> bool:
            page = await (await two.get(f"{url}/pnrs", headers=headers)).json()
            return bool(page["pnrs"] == [AKSEL])

        await eventually(listed_on_second, "the second process sees the first one's PNR")
        answer = await two.put(f"{url}/pnrs/{AKSEL}", headers=headers)
        assert await answer.json() == {"result": "ALREADY_EXISTED"}


async def test_non_existing_pnr_from_the_known_persons_topic(settings: ApiSettings) -> None:
    producer = new_producer(settings.bootstrap_servers)
    await producer.start()
    try:
        async with running(settings) as (api, http):
            publisher = TopicKnownPersons(
                lambda topic, apply: KafkaStateLog(
                    settings.bootstrap_servers, topic, apply, producer
                ),
                settings.known_pnrs_topic,
            )
            await publisher.log.start()
            headers = await bearer(api, "sagssystem")
            url = await create(http, headers)
            before = await http.put(f"{url}/pnrs/{ERNA}", headers=headers)
            assert before.status == 201, "no full load yet: any valid number is ADDED"
            await publisher.publish([AKSEL], complete=True)

            async def complete() -> bool:
                return api.state.known_persons.complete

            await eventually(complete, "the API sees the full-load marker")
            unknown = await http.put(f"{url}/pnrs/0101614011", headers=headers)
            assert (unknown.status, await unknown.json()) == (404, {"result": "NON_EXISTING_PNR"})
            known = await http.put(f"{url}/pnrs/{AKSEL}", headers=headers)
            assert known.status == 201
            await publisher.log.stop()
    finally:
        await producer.stop()


async def test_every_call_is_audited_on_the_audit_topic(settings: ApiSettings) -> None:
    async with running(settings) as (api, http):
        headers = {**(await bearer(api, "sagssystem")), "X-On-Behalf-Of": "sagsbehandler-9"}
        url = await create(http, headers)
        await http.put(f"{url}/pnrs/{AKSEL}", headers=headers)
        await http.get(f"{url}/pnrs", headers=headers)
        await http.get(url, headers=headers)
    topic = settings.topics.audit
    entries = [e async for e in read_audit(settings.bootstrap_servers, topic, AuditQuery())]
    assert [e.action for e in entries] == [
        "subscription.create",
        "pnrs.add",
        "pnrs.list",
        "subscription.read",
    ]
    assert {e.on_behalf_of for e in entries} == {"sagsbehandler-9"}
    about_aksel = [
        e async for e in read_audit(settings.bootstrap_servers, topic, AuditQuery(pnr=AKSEL))
    ]
    assert [(e.action, e.pnrs[0].result) for e in about_aksel] == [
        ("pnrs.add", "ADDED"),
        ("pnrs.list", "READ"),
    ]
