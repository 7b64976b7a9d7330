"""Payload shaping (thin/full), protection masking, the CloudEvents envelope
and the assembled, signed request."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from cprbroker.core.delivery.cloudevents import (
    CONTENT_TYPE,
    build_envelope,
    encode_envelope,
    event_time,
    webhook_message_id,
)
from cprbroker.core.delivery.payload import (
    PayloadLevel,
    has_active_name_and_address_protection,
    shape_payload,
    withhold_name_and_address,
)
from cprbroker.core.delivery.request import WebhookRequest, build_request
from cprbroker.core.delivery.signing import EndpointSecrets, generate_secret
from cprbroker.core.errors import DeliveryPolicyError
from cprbroker.core.events.event import BusinessEvent, DomainChange
from cprbroker.core.events.model import (
    Address,
    CivilStatus,
    Domain,
    Emigration,
    Name,
    PersonStatus,
    Protection,
    Snapshot,
)
from cprbroker.core.events.serial import event_to_dict

ON = dt.date(2024, 6, 1)
OPEN_ENDED = (Protection("0001", "2024-01-01", None),)
PROTECTED = (Protection("0001", "2024-01-01", "2024-12-31"),)


def _business_event(protections: tuple[Protection, ...] = ()) -> BusinessEvent:
    # Synthetic person; the PNR is made up.
    before = Address(municipality="0101", road_code="0042", house_number="7", road_name="Gl. Vej")
    after = Address(municipality="0147", road_code="1100", house_number="12", road_name="Ny Vej")
    snapshot = Snapshot(
        pnr="0101709995",
        status=PersonStatus(code="01"),
        birth_date="1970-01-01",
        name=Name(first_names="Testa", last_name="Testesen", addressing_name="Testesen,Testa"),
        address=after,
        emigration=Emigration(country_code="5100", foreign_address_lines=("Rue 1", "Paris")),
        civil_status=CivilStatus(code="U"),
        protections=protections,
    )
    return BusinessEvent(
        id="ev-7f3a",
        type="cpr.person.moved",
        pnr="0101709995",
        cpr_event_code="A01",
        derived_mark=None,
        occurred_at="2024-05-31T10:00",
        production_date="2024-06-01",
        file_id="110901-2024-06-01",
        municipality_before="0101",
        municipality_after="0147",
        change=DomainChange(Domain.ADDRESS, before, after),
        snapshot=snapshot,
        active_protections=protections,
    )


def _event(protections: tuple[Protection, ...] = ()) -> dict[str, Any]:
    return event_to_dict(_business_event(protections))


def test_thin_payload_has_ids_type_pnr_time_only() -> None:
    data = shape_payload(_event(), PayloadLevel.THIN, may_see_protected=True, on=ON)
    assert data == {
        "id": "ev-7f3a",
        "file_id": "110901-2024-06-01",
        "type": "cpr.person.moved",
        "pnr": "0101709995",
        "occurred_at": "2024-05-31T10:00",
        "production_date": "2024-06-01",
    }


def test_full_payload_is_the_whole_event_and_a_copy() -> None:
    event = _event()
    data = shape_payload(event, PayloadLevel.FULL, may_see_protected=False, on=ON)
    assert data == event
    data["snapshot"]["name"]["first_names"] = "changed"
    assert event["snapshot"]["name"]["first_names"] == "Testa"


def test_protected_person_loses_name_and_address_without_entitlement() -> None:
    event = _event(PROTECTED)
    original = copy.deepcopy(event)
    data = shape_payload(event, PayloadLevel.FULL, may_see_protected=False, on=ON)
    assert event == original  # input untouched
    snapshot = data["snapshot"]
    assert "name" not in snapshot
    assert "address" not in snapshot
    assert "foreign_address_lines" not in snapshot["emigration"]
    assert data["change"] == {"domain": "address"}
    assert data["withheld"] == [
        "/snapshot/name",
        "/snapshot/address",
        "/snapshot/emigration/foreign_address_lines",
        "/change/before",
        "/change/after",
    ]
    # Everything else stays, including what municipality filters match on.
    assert snapshot["civil_status"]["code"] == "U"
    assert snapshot["emigration"]["country_code"] == "5100"
    assert data["municipality_after"] == "0147"
    assert data["active_protections"] == [
        {"type": "0001", "start": "2024-01-01", "end": "2024-12-31"}
    ]
    text = json.dumps(data)
    for leak in ("Testesen", "Testa", "Ny Vej", "Gl. Vej", "1100", "Paris"):
        assert leak not in text


def test_entitled_client_sees_protected_person_in_full() -> None:
    event = _event(PROTECTED)
    assert shape_payload(event, PayloadLevel.FULL, may_see_protected=True, on=ON) == event


def test_change_of_other_domains_keeps_before_and_after() -> None:
    event = _event(PROTECTED)
    event["change"] = {"domain": "civil_status", "before": {"code": "U"}, "after": {"code": "G"}}
    masked = withhold_name_and_address(event)
    assert masked["change"] == event["change"]
    assert "/snapshot/name" in masked["withheld"]


def test_name_change_before_and_after_are_withheld() -> None:
    event = _event(OPEN_ENDED)
    event["change"] = {"domain": "name", "before": {"last_name": "Old"}, "after": None}
    masked = shape_payload(event, PayloadLevel.FULL, may_see_protected=False, on=ON)
    assert masked["change"] == {"domain": "name", "after": None}
    assert "/change/before" in masked["withheld"]


@pytest.mark.parametrize(
    ("protection", "active"),
    [
        ({"type": "0001", "start": "2024-01-01", "end": None}, True),
        ({"type": "0001", "start": "2024-06-01", "end": "2024-06-02"}, True),
        ({"type": "0001", "start": "2024-05-01", "end": "2024-06-01"}, False),
        ({"type": "0001", "start": "2024-06-02", "end": None}, False),
        ({"type": "0001", "start": "2023-01-01", "end": "2024-05-31"}, False),
        ({"type": "0001", "start": None, "end": None}, True),
        ({"type": "0001", "start": "", "end": ""}, True),
        ({"type": 1, "start": "2024-01-01"}, True),
        ({"type": "0001", "start": "2024-00-00"}, True),
        ({"type": "0002", "start": "2024-01-01", "end": None}, False),
        ({"type": "0003", "start": "2024-01-01", "end": None}, False),
    ],
)
def test_protection_in_force_on_the_date(protection: dict[str, Any], active: bool) -> None:
    event = _event()
    event["snapshot"]["protections"] = [protection]
    assert has_active_name_and_address_protection(event, ON) is active
    data = shape_payload(event, PayloadLevel.FULL, may_see_protected=False, on=ON)
    assert ("name" not in data["snapshot"]) is active


def test_masking_agrees_with_the_event_model_on_protection_dates() -> None:
    for start, end in [("2024-01-01", "2024-06-01"), ("2024-06-01", None), ("2024-06-02", None)]:
        protection = Protection("0001", start, end)
        event = _event((protection,))
        assert has_active_name_and_address_protection(event, ON) is protection.active_on(
            ON.isoformat()
        )


def test_active_protections_alone_are_honoured_too() -> None:
    event = _event()
    event["active_protections"] = [{"type": "0001", "start": "2024-01-01", "end": None}]
    assert has_active_name_and_address_protection(event, ON)


def test_payload_level_parse() -> None:
    assert PayloadLevel.parse("thin") is PayloadLevel.THIN
    with pytest.raises(DeliveryPolicyError, match="thin, full"):
        PayloadLevel.parse("medium")


# -- envelope and id ---------------------------------------------------------------


def test_envelope_is_cloudevents_structured_json() -> None:
    event = _event()
    envelope = build_envelope(event, {"k": "æøå"}, source="urn:test")
    assert envelope == {
        "specversion": "1.0",
        "id": "ev-7f3a",
        "source": "urn:test",
        "type": "cpr.person.moved",
        "subject": "0101709995",
        "time": "2024-05-31T10:00:00+02:00",
        "datacontenttype": "application/json",
        "data": {"k": "æøå"},
    }
    body = encode_envelope(envelope)
    assert json.loads(body) == envelope
    assert "æøå".encode() in body
    assert encode_envelope(envelope) == body


@pytest.mark.parametrize(
    ("occurred_at", "time"),
    [
        ("2024-01-15T08:30", "2024-01-15T08:30:00+01:00"),
        ("2024-05-31T10:00:00Z", "2024-05-31T10:00:00+00:00"),
        ("1961-00-00T12:99", None),
        (None, None),
        ("", None),
    ],
)
def test_event_time_is_rfc3339_in_danish_time_or_absent(
    occurred_at: str | None, time: str | None
) -> None:
    assert event_time(occurred_at) == time
    event = _event()
    event["occurred_at"] = occurred_at
    assert build_envelope(event, {}).get("time") == time


def test_envelope_names_a_missing_field() -> None:
    event = _event()
    del event["pnr"]
    with pytest.raises(DeliveryPolicyError, match="/pnr"):
        build_envelope(event, {})


def test_encode_envelope_accepts_dates_and_refuses_other_objects() -> None:
    assert b'"2024-06-01"' in encode_envelope({"d": dt.date(2024, 6, 1)})
    with pytest.raises(DeliveryPolicyError, match="not JSON"):
        encode_envelope({"id": "x", "bad": object()})


def test_webhook_id_is_stable_and_distinct_per_subscription_and_event() -> None:
    first = webhook_message_id("sub-1", "ev-1")
    assert first == webhook_message_id("sub-1", "ev-1")
    assert first.startswith("msg_")
    assert len(first) == 36
    assert first != webhook_message_id("sub-2", "ev-1")
    assert first != webhook_message_id("sub-1", "ev-2")
    assert webhook_message_id("a.b", "c") != webhook_message_id("a", "b.c")
    with pytest.raises(DeliveryPolicyError):
        webhook_message_id("", "ev-1")


# -- the assembled request -----------------------------------------------------------


def _request(protections: tuple[Protection, ...], now: float, secret: str) -> WebhookRequest:
    return build_request(
        _event(protections),
        subscription_id="sub-1",
        level=PayloadLevel.FULL,
        may_see_protected=False,
        secrets=EndpointSecrets(current=secret),
        now=now,
    )


def test_build_request_signs_a_body_the_reference_library_accepts() -> None:
    secret = generate_secret()
    now = dt.datetime.now(tz=dt.UTC).timestamp()
    request = _request(OPEN_ENDED, now, secret)
    assert request.headers["content-type"] == CONTENT_TYPE
    assert request.headers["webhook-id"] == webhook_message_id("sub-1", "ev-7f3a")
    assert request.headers["webhook-timestamp"] == str(int(now))
    envelope = Webhook(secret).verify(request.body, dict(request.headers))
    assert "/snapshot/name" in envelope["data"]["withheld"]
    # A retry later: same id and body, fresh timestamp and signature.
    later = _request(OPEN_ENDED, now + 7, secret)
    assert later.message_id == request.message_id
    assert later.body == request.body
    assert later.headers["webhook-signature"] != request.headers["webhook-signature"]


def test_build_request_judges_protection_on_the_danish_date() -> None:
    # Protected up to and including 2024-12-31 (the end is the first free day).
    protections = (Protection("0001", "2024-01-01", "2025-01-01"),)
    secret = generate_secret()
    # 2024-12-31 23:30 UTC is already 2025-01-01 in Copenhagen: protection over.
    now = dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.UTC).timestamp()
    assert "name" in json.loads(_request(protections, now, secret).body)["data"]["snapshot"]
    # An hour earlier it is still 2024-12-31 in Copenhagen.
    earlier = json.loads(_request(protections, now - 3600, secret).body)
    assert "name" not in earlier["data"]["snapshot"]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _JSON_VALUES, max_size=6))
def test_the_body_is_the_compact_json_the_standard_library_writes(envelope: dict[str, Any]) -> None:
    expected = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert encode_envelope(envelope) == expected
