"""Subscription requests and stored documents."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from cprbroker.core.errors import ValidationError
from cprbroker.core.subscriptions import (
    AgeRange,
    Endpoint,
    Filter,
    PayloadLevel,
    Subscription,
    SubscriptionState,
    SubscriptionStatus,
    parse_subscription_request,
    subscription_from_document,
    subscription_to_document,
)

KNOWN = frozenset({"cpr.person.moved", "cpr.person.died"})
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
NOW = datetime(2024, 3, 5, 8, 0, tzinfo=UTC)


def request(**fields: object) -> dict[str, object]:
    document: dict[str, object] = {
        "name": "Flytninger til sagssystem",
        "endpoint": {"url": "https://sag.example.dk/hooks/cpr", "secret": SECRET},
        "filter": {"municipalities": ["0101"]},
    }
    document.update(fields)
    return {k: v for k, v in document.items() if v is not None}


def refusal(document: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_subscription_request(document, known_event_types=KNOWN)
    return caught.value


def test_a_minimal_request_gets_the_defaults() -> None:
    parsed = parse_subscription_request(request(), known_event_types=KNOWN)
    assert parsed.name == "Flytninger til sagssystem"
    assert parsed.endpoint == Endpoint("https://sag.example.dk/hooks/cpr", SECRET)
    assert parsed.filter == Filter(municipalities=frozenset({"0101"}))
    assert parsed.payload_level is PayloadLevel.FULL
    assert parsed.status == SubscriptionStatus()
    assert parsed.secret_generated is False


def test_a_missing_secret_is_generated_from_fresh_random_bytes() -> None:
    asked: list[int] = []

    def random_bytes(size: int) -> bytes:
        asked.append(size)
        return b"\x07" * size

    document = request(endpoint={"url": "https://sag.example.dk/hooks/cpr"})
    parsed = parse_subscription_request(
        document, known_event_types=KNOWN, random_bytes=random_bytes
    )
    assert parsed.secret_generated is True
    assert parsed.endpoint.secret == "whsec_" + base64.b64encode(b"\x07" * asked[0]).decode()
    assert 24 <= asked[0] <= 32


def test_generated_secrets_differ() -> None:
    document = request(endpoint={"url": "https://sag.example.dk/hooks/cpr"})
    first = parse_subscription_request(document, known_event_types=KNOWN)
    second = parse_subscription_request(document, known_event_types=KNOWN)
    assert first.endpoint.secret != second.endpoint.secret
    key = base64.b64decode(first.endpoint.secret.removeprefix("whsec_"), validate=True)
    assert 24 <= len(key) <= 32


def test_thin_and_paused_may_be_asked_for() -> None:
    parsed = parse_subscription_request(
        request(payload_level="thin", status="paused"), known_event_types=KNOWN
    )
    assert parsed.payload_level is PayloadLevel.THIN
    assert parsed.status.state is SubscriptionState.PAUSED


@pytest.mark.parametrize(
    ("document", "pointer", "words"),
    [
        ([], "", "must be an object"),
        (request(owner="someone-else"), "/owner", "unknown field"),
        (request(name=None), "/name", "required"),
        (request(name="   "), "/name", "must not be empty"),
        (request(name="x" * 201), "/name", "at most 200"),
        (request(filter=None), "/filter", "required"),
        (request(filter={"age": {"min": -1}}), "/filter/age/min", "negative"),
        (request(filter={"event_types": ["cpr.person.flew"]}), "/filter/event_types/0", "unknown"),
        (request(endpoint=None), "/endpoint", "required"),
        (request(endpoint={"secret": SECRET}), "/endpoint/url", "required"),
        (request(endpoint={"url": "ftp://x.example/"}), "/endpoint/url", "https or http"),
        (request(endpoint={"url": "/hooks/cpr"}), "/endpoint/url", "https or http"),
        (request(endpoint={"url": "https:///nohost"}), "/endpoint/url", "host"),
        (request(endpoint={"url": "https://u:p@x.example/"}), "/endpoint/url", "credentials"),
        (request(endpoint={"url": "https://x.example/#a"}), "/endpoint/url", "fragment"),
        (request(endpoint={"url": "https://x.example:99999/"}), "/endpoint/url", "not a valid URL"),
        (request(endpoint={"url": " https://x.example/"}), "/endpoint/url", "whitespace"),
        (request(endpoint={"url": "https://x.example/", "secret": "s3cr3t"}),
         "/endpoint/secret", "whsec_"),
        (request(endpoint={"url": "https://x.example/", "secret": "whsec_c2hvcnQ="}),
         "/endpoint/secret", "24..64"),
        (request(endpoint={"url": "https://x.example/", "secret": "whsec_!!"}),
         "/endpoint/secret", "base64"),
        (request(endpoint={"url": "https://x.example/", "hmac": "x"}), "/endpoint/hmac",
         "unknown field"),
        (request(payload_level="medium"), "/payload_level", '"full" or "thin"'),
        (request(status="disabled"), "/status", "only the broker disables"),
        (request(status="sleeping"), "/status", '"active" or "paused"'),
    ],
)  # fmt: skip
def test_refusals_name_the_value_by_json_pointer(
    document: object, pointer: str, words: str
) -> None:
    error = refusal(document)
    assert error.pointer == pointer
    assert words in error.detail


def test_a_refused_secret_is_not_repeated_in_the_error() -> None:
    bad = "whsec_" + base64.b64encode(b"too short").decode()
    error = refusal(request(endpoint={"url": "https://x.example/", "secret": bad}))
    assert bad not in str(error)
    assert bad.removeprefix("whsec_") not in str(error)


def test_the_endpoint_repr_hides_the_secret() -> None:
    assert SECRET not in repr(Endpoint("https://x.example/", SECRET))


def sample(**changes: object) -> Subscription:
    parsed = parse_subscription_request(
        request(filter={"pnr_list": True, "age": {"max": 17}}, payload_level="thin"),
        known_event_types=KNOWN,
    )
    subscription = parsed.to_subscription("sub-1", "client-a", NOW)
    return Subscription(**{**subscription.__dict__, **changes})


def test_a_request_becomes_a_subscription() -> None:
    created = sample()
    assert created.id == "sub-1"
    assert created.owner == "client-a"
    assert created.filter == Filter(pnr_list=True, age=AgeRange(None, 17))
    assert created.created_at == created.updated_at == NOW
    parsed = parse_subscription_request(request(), known_event_types=KNOWN)
    later = datetime(2024, 4, 1, tzinfo=UTC)
    replaced = parsed.to_subscription("sub-1", "client-a", later, created_at=NOW)
    assert (replaced.created_at, replaced.updated_at) == (NOW, later)


@pytest.mark.parametrize(
    "status",
    [
        SubscriptionStatus(),
        SubscriptionStatus(SubscriptionState.PAUSED),
        SubscriptionStatus.disabled("endpoint answered 410 Gone"),
    ],
)
def test_stored_document_round_trip(status: SubscriptionStatus) -> None:
    subscription = sample(status=status)
    document = subscription_to_document(subscription)
    assert subscription_from_document(document) == subscription
    assert document["status"] == status.state.value
    assert ("disabled_reason" in document) is (status.reason is not None)


def test_documents_for_clients_leave_the_secret_out() -> None:
    document = subscription_to_document(sample(), include_secret=False)
    assert document["endpoint"] == {"url": "https://sag.example.dk/hooks/cpr"}
    assert SECRET not in repr(document)


def test_stored_documents_accept_event_types_unknown_to_the_catalogue() -> None:
    document = subscription_to_document(sample())
    document["filter"] = {"event_types": ["cpr.person.retired_type"]}
    assert subscription_from_document(document).filter.event_types == frozenset(
        {"cpr.person.retired_type"}
    )


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"status": "disabled"}, "/disabled_reason"),
        ({"status": "active", "disabled_reason": "why"}, "/disabled_reason"),
        ({"status": "gone"}, "/status"),
        ({"created_at": "yesterday"}, "/created_at"),
        ({"created_at": "2024-03-05T08:00:00"}, "/created_at"),
        ({"endpoint": {"url": "https://x.example/"}}, "/endpoint/secret"),
        ({"id": None}, "/id"),
    ],
)
def test_broken_stored_documents_are_refused(changes: dict[str, object], pointer: str) -> None:
    document = {**subscription_to_document(sample()), **changes}
    document = {k: v for k, v in document.items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        subscription_from_document(document)
    assert caught.value.pointer == pointer


def test_status_reasons_belong_to_disabled_only() -> None:
    with pytest.raises(ValueError, match="needs a reason"):
        SubscriptionStatus(SubscriptionState.DISABLED)
    with pytest.raises(ValueError, match="only a disabled"):
        SubscriptionStatus(SubscriptionState.PAUSED, "because")
