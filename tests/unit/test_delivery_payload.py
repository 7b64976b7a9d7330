"""Payload shaping (thin/full), protection masking, the CloudEvents envelope
and the assembled, signed request."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from cprbroker.core.delivery.cloudevents import (
    CONTENT_TYPE,
    build_envelope,
    encode_envelope,
    webhook_message_id,
)
from cprbroker.core.delivery.payload import (
    PayloadLevel,
    has_active_name_and_address_protection,
    shape_payload,
    withhold_name_and_address,
)
from cprbroker.core.delivery.request import build_request
from cprbroker.core.delivery.signing import EndpointSecrets, generate_secret
from cprbroker.core.errors import DeliveryPolicyError

ON = dt.date(2024, 6, 1)


def _event(protections: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    # Synthetic person; the PNR is made up.
    return {
        "id": "ev-7f3a",
        "file_id": "D240601",
        "type": "dk.cprbroker.person.moved",
        "pnr": "0101709995",
        "time": "2024-05-31T10:00:00Z",
        "change_code": "A01",
        "mark": "",
        "municipality_before": "0101",
        "municipality_after": "0147",
        "domain": "address",
        "before": {"address": {"municipality": "0101", "road_code": "0042", "house": "7"}},
        "after": {"address": {"municipality": "0147", "road_code": "1100", "house": "12"}},
        "snapshot": {
            "name": {"first": "Testa", "last": "Testesen"},
            "addressing_name": "Testesen,Testa",
            "address": {"municipality": "0147", "road_code": "1100", "house": "12"},
            "civil_status": {"code": "U"},
            "protections": protections or [],
        },
    }


PROTECTED = [{"type": "0001", "start": "2024-01-01", "end": "2024-12-31"}]


def test_thin_payload_has_ids_type_pnr_time_only() -> None:
    data = shape_payload(_event(), PayloadLevel.THIN, may_see_protected=True, on=ON)
    assert data == {
        "id": "ev-7f3a",
        "file_id": "D240601",
        "type": "dk.cprbroker.person.moved",
        "pnr": "0101709995",
        "time": "2024-05-31T10:00:00Z",
    }


def test_full_payload_is_the_whole_event_and_a_copy() -> None:
    event = _event()
    data = shape_payload(event, PayloadLevel.FULL, may_see_protected=False, on=ON)
    assert data == event
    data["snapshot"]["name"]["first"] = "changed"
    assert event["snapshot"]["name"]["first"] == "Testa"


def test_protected_person_loses_name_and_address_without_entitlement() -> None:
    event = _event(PROTECTED)
    original = copy.deepcopy(event)
    data = shape_payload(event, PayloadLevel.FULL, may_see_protected=False, on=ON)
    assert event == original  # input untouched
    snapshot = data["snapshot"]
    assert "name" not in snapshot
    assert "address" not in snapshot
    assert "addressing_name" not in snapshot
    assert "before" not in data
    assert "after" not in data
    assert data["withheld"] == ["address", "addressing_name", "name"]
    # Everything else stays, including what municipality filters match on.
    assert snapshot["civil_status"] == {"code": "U"}
    assert data["municipality_after"] == "0147"
    assert "Testesen" not in json.dumps(data)
    assert "1100" not in json.dumps(data)


def test_entitled_client_sees_protected_person_in_full() -> None:
    event = _event(PROTECTED)
    assert shape_payload(event, PayloadLevel.FULL, may_see_protected=True, on=ON) == event


def test_keyed_before_after_are_stripped_when_domain_is_not_protected() -> None:
    event = _event(PROTECTED)
    event["domain"] = "civil_status"
    event["before"] = {"civil_status": {"code": "U"}, "name": {"last": "Old"}}
    event["after"] = {"civil_status": {"code": "G"}}
    masked = withhold_name_and_address(event)
    assert masked["before"] == {"civil_status": {"code": "U"}}
    assert masked["after"] == {"civil_status": {"code": "G"}}


@pytest.mark.parametrize(
    ("protection", "active"),
    [
        ({"type": "0001", "start": "2024-01-01", "end": None}, True),
        ({"type": "0001", "start": "2024-06-01", "end": "2024-06-01"}, True),
        ({"type": "0001", "start": "2024-06-02", "end": None}, False),
        ({"type": "0001", "start": "2023-01-01", "end": "2024-05-31"}, False),
        ({"type": "0001", "start": "", "end": ""}, True),
        ({"type": 1, "start": "2024-01-01"}, True),
        ({"type": "0001", "start": "garbage"}, True),
        ({"type": "0002", "start": "2024-01-01", "end": None}, False),
        ({"type": "0003", "start": "2024-01-01", "end": None}, False),
    ],
)
def test_protection_in_force_on_the_date(protection: dict[str, Any], active: bool) -> None:
    assert has_active_name_and_address_protection(_event([protection]), ON) is active
    data = shape_payload(_event([protection]), PayloadLevel.FULL, may_see_protected=False, on=ON)
    assert ("name" not in data["snapshot"]) is active


def test_top_level_protections_are_honoured_too() -> None:
    event = _event()
    event["protections"] = PROTECTED
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
        "type": "dk.cprbroker.person.moved",
        "subject": "0101709995",
        "time": "2024-05-31T10:00:00Z",
        "datacontenttype": "application/json",
        "data": {"k": "æøå"},
    }
    body = encode_envelope(envelope)
    assert json.loads(body) == envelope
    assert "æøå".encode() in body
    assert encode_envelope(envelope) == body


def test_envelope_names_a_missing_field() -> None:
    event = _event()
    del event["time"]
    with pytest.raises(DeliveryPolicyError, match="/time"):
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


def test_build_request_signs_a_body_the_reference_library_accepts() -> None:
    open_ended = [{"type": "0001", "start": "2024-01-01", "end": None}]
    secret = generate_secret()
    now = dt.datetime.now(tz=dt.UTC).timestamp()
    request = build_request(
        _event(open_ended),
        subscription_id="sub-1",
        level=PayloadLevel.FULL,
        may_see_protected=False,
        secrets=EndpointSecrets(current=secret),
        now=now,
    )
    assert request.headers["content-type"] == CONTENT_TYPE
    assert request.headers["webhook-id"] == webhook_message_id("sub-1", "ev-7f3a")
    assert request.headers["webhook-timestamp"] == str(int(now))
    envelope = Webhook(secret).verify(request.body, dict(request.headers))
    assert envelope["data"]["withheld"] == ["address", "addressing_name", "name"]
    # A retry later: same id and body, fresh timestamp and signature.
    later = build_request(
        _event(open_ended),
        subscription_id="sub-1",
        level=PayloadLevel.FULL,
        may_see_protected=False,
        secrets=EndpointSecrets(current=secret),
        now=now + 7,
    )
    assert later.message_id == request.message_id
    assert later.body == request.body
    assert later.headers["webhook-signature"] != request.headers["webhook-signature"]


def test_build_request_judges_protection_on_the_danish_date() -> None:
    # 2024-12-31 23:30 UTC is already 2025-01-01 in Copenhagen: protection over.
    protections = [{"type": "0001", "start": "2024-01-01", "end": "2024-12-31"}]
    now = dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.UTC).timestamp()
    request = build_request(
        _event(protections),
        subscription_id="sub-1",
        level=PayloadLevel.FULL,
        may_see_protected=False,
        secrets=EndpointSecrets(current=generate_secret()),
        now=now,
    )
    assert "name" in json.loads(request.body)["data"]["snapshot"]
    earlier = build_request(
        _event(protections),
        subscription_id="sub-1",
        level=PayloadLevel.FULL,
        may_see_protected=False,
        secrets=EndpointSecrets(current=generate_secret()),
        now=now - 3600,
    )
    assert "name" not in json.loads(earlier.body)["data"]["snapshot"]
