"""Every kind of bad input (issue point 8) against the API on a real Kafka.

Each answers 4xx problem+json naming the field, and nothing is written: a
fresh API process reading the same topics afterwards finds no subscription.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from tests.integration.api_support import api_settings, bearer, running

from cprbroker.api.settings import ApiSettings


@pytest.fixture
def settings(kafka_bootstrap: str) -> ApiSettings:
    return api_settings(kafka_bootstrap)


PUBLIC_HOOK = "https://93.184.216.34/hook"  # a public literal: no DNS needed


def body(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": "Flytninger",
        "endpoint": {"url": PUBLIC_HOOK},
        "filter": {"municipalities": ["0101"]},
    }
    document.update(changes)
    return document


CASES: list[tuple[str, Any, int, str]] = [
    ("unknown field", body(extra=1), 422, "/extra"),
    ("unknown filter field", body(filter={"municipality": ["0101"]}), 422, "/filter/municipality"),
    ("wrong type", body(filter={"pnr_list": "yes"}), 422, "/filter/pnr_list"),
    (
        "unknown event type",
        body(filter={"event_types": ["cpr.nope"]}),
        422,
        "/filter/event_types/0",
    ),
    (
        "5-digit municipality",
        body(filter={"municipalities": ["01010"]}),
        422,
        "/filter/municipalities/0",
    ),
    ("negative age", body(filter={"age": {"max": -3}}), 422, "/filter/age/max"),
    ("inverted age", body(filter={"age": {"min": 70, "max": 10}}), 422, "/filter/age/max"),
    (
        "address road code",
        body(filter={"addresses": [{"municipality": "0101", "road_code": "12"}]}),
        422,
        "/filter/addresses/0/road_code",
    ),
    ("non-http url", body(endpoint={"url": "file:///etc/passwd"}), 422, "/endpoint/url"),
    ("private literal", body(endpoint={"url": "http://10.1.2.3/hook"}), 422, "/endpoint/url"),
    (
        "link-local literal",
        body(endpoint={"url": "http://169.254.169.254/x"}),
        422,
        "/endpoint/url",
    ),
    (
        "name resolving to loopback",
        body(endpoint={"url": "http://localhost:9/x"}),
        422,
        "/endpoint/url",
    ),
    ("payload level", body(payload_level="fat"), 422, "/payload_level"),
]


async def test_bad_subscription_bodies(settings: ApiSettings) -> None:
    # No allow-list here: loopback must be refused like any internal address.
    strict = replace(settings, callback_allow_cidrs=())
    failures: list[str] = []
    async with running(strict) as (api, http):
        headers = await bearer(api, "sagssystem")
        for case, document, status, pointer in CASES:
            response = await http.post("/v1/subscriptions", json=document, headers=headers)
            problem = await response.json(content_type=None)
            if (
                response.status != status
                or response.content_type != "application/problem+json"
                or problem.get("pointer") != pointer
            ):
                failures.append(f"{case}: {response.status} {problem}")
        failures.extend(await _malformed_bodies(http, headers))
        listed = await (await http.get("/v1/subscriptions", headers=headers)).json()
        assert listed == {"subscriptions": []}
    assert not failures, "\n".join(failures)
    async with running(strict) as (_, http):
        again = await (await http.get("/v1/subscriptions", headers=headers)).json()
        assert again == {"subscriptions": []}, "nothing was half-written to the topics"


async def _malformed_bodies(http: aiohttp.ClientSession, headers: dict[str, str]) -> list[str]:
    failures = []
    as_json = {**headers, "Content-Type": "application/json"}
    answers = {
        "malformed json": await http.post("/v1/subscriptions", data=b"{", headers=as_json),
        "over 1 MB": await http.post(
            "/v1/subscriptions",
            data=io.BytesIO(json.dumps(body(name="n" * (1024 * 1024))).encode()),
            headers=as_json,
        ),
    }
    for case, response in answers.items():
        expected = 400 if case == "malformed json" else 413
        if response.status != expected or response.content_type != "application/problem+json":
            failures.append(f"{case}: {response.status} {await response.text()}")
    return failures


async def test_bad_pnrs_and_oversized_batches(settings: ApiSettings) -> None:
    async with running(settings) as (api, http):
        headers = await bearer(api, "sagssystem")
        created = await http.post(
            "/v1/subscriptions", json=body(filter={"pnr_list": True}), headers=headers
        )
        url = f"/v1/subscriptions/{(await created.json())['id']}"
        for bad in ("0000000000", "3113614011", "12345", "07016140111"):
            response = await http.put(f"{url}/pnrs/{bad}", headers=headers)
            assert response.status == 422, bad
            assert bad in (await response.json())["detail"]
        numbers = [f"0101{yy:02d}{serial:04d}" for yy in (70, 71) for serial in range(5001)]
        big = await http.post(f"{url}/pnrs:batch", json={"add": numbers}, headers=headers)
        assert big.status == 413
        mixed = await http.post(
            f"{url}/pnrs:batch", json={"add": ["0701614011", "070161401X"]}, headers=headers
        )
        assert mixed.status == 422
        assert (await mixed.json())["pointer"] == "/add/1"
        page = await (await http.get(f"{url}/pnrs", headers=headers)).json()
        assert page["total"] == 0, "a refused batch writes nothing"
