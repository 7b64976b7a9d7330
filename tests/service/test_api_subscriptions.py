"""The subscription API over in-memory stores: lifecycle, isolation, auth, bad input, audit."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from tests.service.api_harness import FakeApi, FakeTopics, fake_api, subscription_body


@pytest.fixture
def cluster() -> FakeTopics:
    return FakeTopics()


async def _create(api: FakeApi, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = await api.http.post(
        "/v1/subscriptions", json=subscription_body(**changes), headers=headers
    )
    assert response.status == 201, await response.text()
    document: dict[str, Any] = await response.json()
    return document


async def test_lifecycle_create_read_patch_delete(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sagssystem")
        created = await _create(api, headers)
        assert created["endpoint"]["secret"].startswith("whsec_")
        assert created["owner"] == "sagssystem"
        assert created["status"] == "active"
        assert created["payload_level"] == "full"
        url = f"/v1/subscriptions/{created['id']}"

        read = await (await api.http.get(url, headers=headers)).json()
        assert "secret" not in read["endpoint"], "the secret is shown once only"
        assert read["filter"] == {"municipalities": ["0101"], "pnr_list": True}

        patched = await api.http.patch(
            url,
            json={"filter": {"age": {"min": 18}}, "status": "paused", "payload_level": "thin"},
            headers=headers,
        )
        assert patched.status == 200, await patched.text()
        document = await patched.json()
        assert document["filter"] == {
            "municipalities": ["0101"],
            "pnr_list": True,
            "age": {"min": 18},
        }
        assert (document["status"], document["payload_level"]) == ("paused", "thin")
        assert "secret" not in document["endpoint"]
        # The secret survives a patch that does not touch it.
        stored = api.subscriptions.get(created["id"])
        assert stored is not None
        assert stored.endpoint.secret == created["endpoint"]["secret"]

        listed = await (await api.http.get("/v1/subscriptions", headers=headers)).json()
        assert [s["id"] for s in listed["subscriptions"]] == [created["id"]]

        assert (await api.http.delete(url, headers=headers)).status == 204
        assert (await api.http.get(url, headers=headers)).status == 404
        assert (await api.http.delete(url, headers=headers)).status == 404


async def test_given_secret_is_kept_and_not_echoed(cluster: FakeTopics) -> None:
    secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        created = await _create(
            api, headers, endpoint={"url": "https://hooks.example.dk/x", "secret": secret}
        )
        assert "secret" not in created["endpoint"]
        stored = api.subscriptions.get(created["id"])
        assert stored is not None
        assert stored.endpoint.secret == secret


async def test_patch_secret_null_rotates_and_shows_new_secret_once(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        created = await _create(api, headers)
        url = f"/v1/subscriptions/{created['id']}"
        response = await api.http.patch(url, json={"endpoint": {"secret": None}}, headers=headers)
        rotated = (await response.json())["endpoint"]["secret"]
        assert rotated.startswith("whsec_")
        assert rotated != created["endpoint"]["secret"]


async def test_clients_are_isolated_and_admin_sees_all(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        alice = await api.token("alice")
        bob = await api.token("bob")
        admin = await api.token("ops", admin=True)
        mine = await _create(api, alice)
        url = f"/v1/subscriptions/{mine['id']}"
        for method in ("GET", "DELETE"):
            response = await api.http.request(method, url, headers=bob)
            assert response.status == 404, method
            assert response.content_type == "application/problem+json"
        patch = await api.http.patch(url, json={"name": "stolen"}, headers=bob)
        assert patch.status == 404
        put = await api.http.put(f"{url}/pnrs/0101614011", headers=bob)
        assert put.status == 404
        assert (await (await api.http.get("/v1/subscriptions", headers=bob)).json()) == {
            "subscriptions": []
        }
        everything = await (await api.http.get("/v1/subscriptions", headers=admin)).json()
        assert [s["id"] for s in everything["subscriptions"]] == [mine["id"]]
        assert (await api.http.get(url, headers=admin)).status == 200
        # Nothing was changed by the refused calls.
        assert (await (await api.http.get(url, headers=alice)).json())["name"] == mine["name"]


async def test_authentication(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        no_token = await api.http.get("/v1/subscriptions")
        assert no_token.status == 401
        assert no_token.headers["WWW-Authenticate"].startswith("Bearer")
        assert no_token.content_type == "application/problem+json"
        wrong = await api.http.get(
            "/v1/subscriptions", headers={"Authorization": "Bearer cprb_nope"}
        )
        assert wrong.status == 401
        basic = await api.http.get("/v1/subscriptions", headers={"Authorization": "Basic eDp5"})
        assert basic.status == 401
        await api.clients.revoke("sys")
        revoked = await api.http.get("/v1/subscriptions", headers=headers)
        assert revoked.status == 403
        # Health and the OpenAPI document need no token.
        assert (await api.http.get("/healthz")).status == 200
        assert (await api.http.get("/readyz")).status == 200
        assert (await api.http.get("/v1/openapi.json")).status == 200


async def test_entitlements_refuse_event_types_with_403(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("limited", event_types=["cpr.person.moved"])
        refused = await api.http.post(
            "/v1/subscriptions",
            json=subscription_body(filter={"event_types": ["cpr.person.moved", "cpr.person.died"]}),
            headers=headers,
        )
        assert refused.status == 403
        problem = await refused.json()
        assert "cpr.person.died" in problem["detail"]
        assert problem["pointer"] == "/filter/event_types"
        assert api.subscriptions.all() == []
        allowed = await api.http.post(
            "/v1/subscriptions",
            json=subscription_body(filter={"event_types": ["cpr.person.moved"]}),
            headers=headers,
        )
        assert allowed.status == 201


BAD_BODIES: list[tuple[str, Any, int, str]] = [
    ("unknown field", subscription_body(colour="red"), 422, "/colour"),
    ("wrong type", subscription_body(name=5), 422, "/name"),
    ("missing endpoint", {"name": "x", "filter": {}}, 422, "/endpoint"),
    (
        "unknown event type",
        subscription_body(filter={"event_types": ["cpr.person.flew"]}),
        422,
        "/filter/event_types/0",
    ),
    (
        "3-digit municipality",
        subscription_body(filter={"municipalities": ["101"]}),
        422,
        "/filter/municipalities/0",
    ),
    (
        "numeric municipality",
        subscription_body(filter={"municipalities": [101]}),
        422,
        "/filter/municipalities/0",
    ),
    ("negative age", subscription_body(filter={"age": {"min": -1}}), 422, "/filter/age/min"),
    (
        "inverted age",
        subscription_body(filter={"age": {"min": 60, "max": 18}}),
        422,
        "/filter/age/max",
    ),
    (
        "ftp url",
        subscription_body(endpoint={"url": "ftp://hooks.example.dk/x"}),
        422,
        "/endpoint/url",
    ),
    (
        "private host",
        subscription_body(endpoint={"url": "https://internal.example.dk/x"}),
        422,
        "/endpoint/url",
    ),
    (
        "one private address",
        subscription_body(endpoint={"url": "https://mixed.example.dk/x"}),
        422,
        "/endpoint/url",
    ),
    (
        "link-local literal",
        subscription_body(endpoint={"url": "http://169.254.169.254/latest"}),
        422,
        "/endpoint/url",
    ),
    (
        "unresolvable",
        subscription_body(endpoint={"url": "https://nowhere.example.dk/x"}),
        422,
        "/endpoint/url",
    ),
    ("client may not disable", subscription_body(status="disabled"), 422, "/status"),
    (
        "bad secret",
        subscription_body(endpoint={"url": "https://hooks.example.dk/x", "secret": "nope"}),
        422,
        "/endpoint/secret",
    ),
    ("not an object", ["a"], 422, ""),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "pointer"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES]
)
async def test_bad_input_is_refused_naming_the_field(
    cluster: FakeTopics, case: str, body: Any, status: int, pointer: str
) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        response = await api.http.post("/v1/subscriptions", json=body, headers=headers)
        assert response.status == status, await response.text()
        assert response.content_type == "application/problem+json"
        problem = await response.json()
        assert problem["pointer"] == pointer
        assert problem["status"] == status
        assert api.subscriptions.all() == [], "nothing is half-written"


async def test_loopback_is_admitted_by_the_allow_list(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        created = await _create(api, headers, endpoint={"url": "http://localhost:9999/hook"})
        assert created["endpoint"]["url"] == "http://localhost:9999/hook"


async def test_malformed_oversized_and_non_json_bodies(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        json_headers = {**headers, "Content-Type": "application/json"}
        malformed = await api.http.post(
            "/v1/subscriptions", data=b'{"name": ', headers=json_headers
        )
        assert malformed.status == 400
        assert (await malformed.json())["pointer"] == ""
        nan = await api.http.post("/v1/subscriptions", data=b'{"name": NaN}', headers=json_headers)
        assert nan.status == 400
        text = await api.http.post(
            "/v1/subscriptions", data=b"name=x", headers={**headers, "Content-Type": "text/plain"}
        )
        assert text.status == 415
        big = json.dumps(subscription_body(name="x" * (1024 * 1024 + 10))).encode()
        too_big = await api.http.post(
            "/v1/subscriptions", data=io.BytesIO(big), headers=json_headers
        )
        assert too_big.status == 413
        assert too_big.content_type == "application/problem+json"
        assert api.subscriptions.all() == []


async def test_bad_patch_changes_nothing(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = await api.token("sys")
        created = await _create(api, headers)
        url = f"/v1/subscriptions/{created['id']}"
        response = await api.http.patch(
            url, json={"name": "renamed", "filter": {"age": {"min": -5}}}, headers=headers
        )
        assert response.status == 422
        assert (await response.json())["pointer"] == "/filter/age/min"
        unknown = await api.http.patch(url, json={"id": "other"}, headers=headers)
        assert unknown.status == 422
        assert (await unknown.json())["pointer"] == "/id"
        after = await (await api.http.get(url, headers=headers)).json()
        assert after["name"] == created["name"]


async def test_on_behalf_of_and_audit(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as api:
        headers = {**(await api.token("sys")), "X-On-Behalf-Of": "caseworker-17"}
        created = await _create(api, headers)
        await api.http.get(f"/v1/subscriptions/{created['id']}", headers=headers)
        other = await api.token("other")
        await api.http.get(f"/v1/subscriptions/{created['id']}", headers=other)
        entries = cluster.audit.entries
        assert [(e.client, e.action, e.result) for e in entries] == [
            ("sys", "subscription.create", "CREATED"),
            ("sys", "subscription.read", "OK"),
            ("other", "subscription.read", "NOT_FOUND"),
        ]
        assert entries[0].on_behalf_of == "caseworker-17"
        assert entries[0].criteria is not None
        assert entries[0].criteria["filter"] == {"municipalities": ["0101"], "pnr_list": True}
        assert entries[0].subscription_id == created["id"]
        too_long = await api.http.get(
            "/v1/subscriptions", headers={**headers, "X-On-Behalf-Of": "u" * 300}
        )
        assert too_long.status == 400
        assert (await too_long.json())["parameter"] == "X-On-Behalf-Of"


async def test_two_processes_and_restart_share_state(cluster: FakeTopics) -> None:
    async with fake_api(cluster) as first, fake_api(cluster) as second:
        headers = await first.token("sys")
        created = await _create(first, headers)
        seen = await second.http.get(f"/v1/subscriptions/{created['id']}", headers=headers)
        assert seen.status == 200
    async with fake_api(cluster) as restarted:
        again = await restarted.http.get(f"/v1/subscriptions/{created['id']}", headers=headers)
        assert (await again.json())["name"] == created["name"]


async def test_failures_answer_problems_without_details(
    cluster: FakeTopics, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cprbroker.core.errors import KafkaUnavailableError

    async with fake_api(cluster) as api:
        headers = await api.token("sys")

        def broken(*_: object) -> None:
            raise RuntimeError("0701614011 exploded")

        async def unreachable(*_: object) -> None:
            raise KafkaUnavailableError("broker down")

        monkeypatch.setattr(api.subscriptions, "owned_by", broken)
        monkeypatch.setattr(api.subscriptions, "put", unreachable)
        crashed = await api.http.get("/v1/subscriptions", headers=headers)
        assert crashed.status == 500
        assert crashed.content_type == "application/problem+json"
        assert "0701614011" not in await crashed.text()
        down = await api.http.post("/v1/subscriptions", json=subscription_body(), headers=headers)
        assert down.status == 503
        assert down.headers["Retry-After"] == "5"
