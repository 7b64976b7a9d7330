"""CPR-number lists over in-memory stores: SF6002 answers, paging, batch, limits, audit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from tests.service.api_harness import FakeApi, FakeTopics, fake_api, subscription_body

from cprbroker.adapters.known_persons import InMemoryKnownPersons
from cprbroker.adapters.state_store import Apply, Record, StateLog
from cprbroker.api.settings import ApiSettings

# Synthetic numbers: valid dates under the century rule, not real persons.
AKSEL = "0701614011"
ERNA = "0707614226"
BORN_2010 = "0101104000"  # 7th digit 4, YY 10: born 2010


@pytest.fixture
def cluster() -> FakeTopics:
    return FakeTopics()


async def _subscription(api: FakeApi, headers: dict[str, str]) -> str:
    response = await api.http.post("/v1/subscriptions", json=subscription_body(), headers=headers)
    assert response.status == 201
    document: dict[str, Any] = await response.json()
    return f"/v1/subscriptions/{document['id']}"


async def test_sf6002_answers_for_single_numbers(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        url = await _subscription(api, headers)
        added = await api.http.put(f"{url}/pnrs/{AKSEL}", headers=headers)
        assert (added.status, await added.json()) == (201, {"result": "ADDED"})
        again = await api.http.put(f"{url}/pnrs/{AKSEL}", headers=headers)
        assert (again.status, await again.json()) == (200, {"result": "ALREADY_EXISTED"})
        removed = await api.http.delete(f"{url}/pnrs/{AKSEL}", headers=headers)
        assert (removed.status, await removed.json()) == (200, {"result": "REMOVED"})
        gone = await api.http.delete(f"{url}/pnrs/{AKSEL}", headers=headers)
        assert (gone.status, await gone.json()) == (404, {"result": "NOT_SUBSCRIBED"})


async def test_invalid_numbers_answer_422_naming_the_value(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        url = await _subscription(api, headers)
        # 32nd of a month; 9 digits; letters; 29 Feb of a non-leap year (1961).
        for bad in ("3201614011", "070161401", "07016140AB", "2902614011"):
            response = await api.http.put(f"{url}/pnrs/{bad}", headers=headers)
            assert response.status == 422, bad
            problem = await response.json()
            assert bad in problem["detail"]
            assert problem["parameter"] == "pnr"
        # Modulus 11 is not required: 0101104000 fails it but is a valid date.
        assert (await api.http.put(f"{url}/pnrs/{BORN_2010}", headers=headers)).status == 201
        assert api.subscriptions.list_size(url.rsplit("/", 1)[1]) == 1


async def test_non_existing_pnr_only_once_the_replica_is_complete(cluster: FakeTopics) -> None:
    known = InMemoryKnownPersons([AKSEL], complete=False)
    async with fake_api(cluster, known=known) as api:
        headers = await api.token("sys")
        url = await _subscription(api, headers)
        before = await api.http.put(f"{url}/pnrs/{ERNA}", headers=headers)
        assert before.status == 201, "an incomplete replica cannot say a number does not exist"
        known.complete = True
        unknown = await api.http.put(f"{url}/pnrs/{BORN_2010}", headers=headers)
        assert (unknown.status, await unknown.json()) == (404, {"result": "NON_EXISTING_PNR"})
        assert (await api.http.put(f"{url}/pnrs/{AKSEL}", headers=headers)).status == 201


async def test_paging_through_a_list_with_a_cursor(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        url = await _subscription(api, headers)
        numbers = [f"0101{yy:02d}{serial:04d}" for yy in (50, 61) for serial in range(1000, 1025)]
        response = await api.http.post(f"{url}/pnrs:batch", json={"add": numbers}, headers=headers)
        assert response.status == 200
        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            query = {"limit": "7"} | ({"cursor": cursor} if cursor else {})
            page = await (await api.http.get(f"{url}/pnrs", params=query, headers=headers)).json()
            pages += 1
            assert page["total"] == 50
            seen.extend(page["pnrs"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(numbers)
        assert pages == 8
        bad = await api.http.get(f"{url}/pnrs", params={"cursor": "!!"}, headers=headers)
        assert bad.status == 400
        assert (await bad.json())["parameter"] == "cursor"
        limit = await api.http.get(f"{url}/pnrs", params={"limit": "0"}, headers=headers)
        assert limit.status == 400


async def test_remove_all(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        url = await _subscription(api, headers)
        await api.http.post(f"{url}/pnrs:batch", json={"add": [AKSEL, ERNA]}, headers=headers)
        response = await api.http.delete(f"{url}/pnrs", headers=headers)
        assert await response.json() == {"result": "REMOVED", "removed": 2}
        page = await (await api.http.get(f"{url}/pnrs", headers=headers)).json()
        assert page == {"pnrs": [], "next_cursor": None, "total": 0}


async def test_batch_answers_per_item_in_order(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        url = await _subscription(api, headers)
        await api.http.put(f"{url}/pnrs/{ERNA}", headers=headers)
        response = await api.http.post(
            f"{url}/pnrs:batch",
            json={"add": [AKSEL, AKSEL, ERNA], "remove": [ERNA, ERNA, BORN_2010]},
            headers=headers,
        )
        assert response.status == 200
        assert await response.json() == {
            "add": [
                {"pnr": AKSEL, "result": "ADDED"},
                {"pnr": AKSEL, "result": "ALREADY_EXISTED"},
                {"pnr": ERNA, "result": "ALREADY_EXISTED"},
            ],
            "remove": [
                {"pnr": ERNA, "result": "REMOVED"},
                {"pnr": ERNA, "result": "NOT_SUBSCRIBED"},
                {"pnr": BORN_2010, "result": "NOT_SUBSCRIBED"},
            ],
        }
        page = await (await api.http.get(f"{url}/pnrs", headers=headers)).json()
        assert page["pnrs"] == [AKSEL]


async def test_batch_with_one_bad_number_writes_nothing(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        url = await _subscription(api, headers)
        response = await api.http.post(
            f"{url}/pnrs:batch", json={"add": [AKSEL, "9999999999"]}, headers=headers
        )
        assert response.status == 422
        problem = await response.json()
        assert problem["pointer"] == "/add/1"
        assert "9999999999" in problem["detail"]
        wrong_type = await api.http.post(f"{url}/pnrs:batch", json={"add": [7]}, headers=headers)
        assert (await wrong_type.json())["pointer"] == "/add/0"
        unknown = await api.http.post(f"{url}/pnrs:batch", json={"put": [AKSEL]}, headers=headers)
        assert (await unknown.json())["pointer"] == "/put"
        page = await (await api.http.get(f"{url}/pnrs", headers=headers)).json()
        assert page["total"] == 0


async def test_batch_over_the_limit_is_413(cluster: FakeTopics) -> None:
    settings = ApiSettings(callback_allow_cidrs=("127.0.0.0/8",), max_batch_items=10)
    async with fake_api(cluster, settings=settings) as api:
        headers = await api.token("sys")
        url = await _subscription(api, headers)
        numbers = [f"01016110{n:02d}" for n in range(6)]
        response = await api.http.post(
            f"{url}/pnrs:batch", json={"add": numbers, "remove": numbers}, headers=headers
        )
        assert response.status == 413
        assert response.content_type == "application/problem+json"
        exact = await api.http.post(
            f"{url}/pnrs:batch", json={"add": numbers, "remove": numbers[:4]}, headers=headers
        )
        assert exact.status == 200


async def test_the_default_batch_limit_is_ten_thousand(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        url = await _subscription(api, headers)
        numbers = [f"0101{yy:02d}{serial:04d}" for yy in range(50, 52) for serial in range(5001)]
        response = await api.http.post(f"{url}/pnrs:batch", json={"add": numbers}, headers=headers)
        assert response.status == 413
        response = await api.http.post(
            f"{url}/pnrs:batch", json={"add": numbers[:10_000]}, headers=headers
        )
        assert response.status == 200
        assert api.subscriptions.list_size(url.rsplit("/", 1)[1]) == 10_000


async def test_list_changes_are_audited_with_the_numbers(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = {**(await api.token("sys")), "X-On-Behalf-Of": "sagsbehandler-3"}
        url = await _subscription(api, headers)
        await api.http.put(f"{url}/pnrs/{AKSEL}", headers=headers)
        await api.http.post(
            f"{url}/pnrs:batch", json={"add": [ERNA], "remove": [AKSEL]}, headers=headers
        )
        await api.http.put(f"{url}/pnrs/3201614011", headers=headers)
        entries = [e for e in cluster.audit.entries if e.action.startswith("pnrs.")]
        assert [(e.action, e.result, e.status) for e in entries] == [
            ("pnrs.add", "ADDED", 201),
            ("pnrs.batch", "OK", 200),
            ("pnrs.add", "BAD_PARAMETER", 422),
        ]
        assert [(p.pnr, p.result) for p in entries[1].pnrs] == [
            (ERNA, "ADDED"),
            (AKSEL, "REMOVED"),
        ]
        assert all(e.on_behalf_of == "sagsbehandler-3" for e in entries)
        assert entries[2].pnrs[0].pnr == "3201614011"


async def test_deleting_a_subscription_deletes_its_list(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        url = await _subscription(api, headers)
        await api.http.post(f"{url}/pnrs:batch", json={"add": [AKSEL, ERNA]}, headers=headers)
        assert (await api.http.delete(url, headers=headers)).status == 204
        subscription_id = url.rsplit("/", 1)[1]
        assert api.subscriptions.list_size(subscription_id) == 0
        pnr_topic = cluster.topics["cpr.subscription-pnrs"]
        assert pnr_topic.latest() == {}, "tombstones for every number on the list"
        deleted = [e for e in cluster.audit.entries if e.action == "subscription.delete"]
        assert sorted(p.pnr for p in deleted[0].pnrs) == [AKSEL, ERNA]


class SlowTopics(FakeTopics):
    """Writes take a moment, as they do on Kafka, so concurrent calls interleave."""

    def open_log(self, topic: str, apply: Apply) -> StateLog:
        log = super().open_log(topic, apply)
        write = log.write

        async def slow_write(records: Sequence[Record]) -> None:
            await asyncio.sleep(0.01)
            await write(records)

        log.write = slow_write  # type: ignore[method-assign]
        return log


async def test_concurrent_adds_of_one_number_answer_added_once() -> None:
    async with fake_api(SlowTopics()) as api:
        headers = await api.token("sys")
        url = await _subscription(api, headers)
        answers = await asyncio.gather(
            *(api.http.put(f"{url}/pnrs/{AKSEL}", headers=headers) for _ in range(5))
        )
        results = sorted([(await a.json())["result"] for a in answers])
        assert results == ["ADDED"] + ["ALREADY_EXISTED"] * 4
        removals = await asyncio.gather(
            api.http.delete(url, headers=headers),
            api.http.put(f"{url}/pnrs/{ERNA}", headers=headers),
        )
        assert [r.status for r in removals] == [204, 404], "no list change after the delete"
        assert api.subscriptions.list_size(url.rsplit("/", 1)[1]) == 0
