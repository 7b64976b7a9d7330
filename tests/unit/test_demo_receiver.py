"""The demo receiver's check of each request: Standard Webhooks signatures
verified, failures refused with 401, retries (same webhook-id) counted once,
CPR numbers shown masked."""

from __future__ import annotations

import json

from cprbroker.core.delivery.signing import generate_secret, signature_header
from cprbroker.demo.receiver import Delivery, ReceiverTally, mask_pnr

NOW = 1_700_000_000.0
SECRET = generate_secret()


def envelope(pnr: str = "0101701234") -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": "ev-1",
            "type": "cpr.person.moved",
            "subject": pnr,
            "data": {
                "cpr_event_code": "A01",
                "municipality_before": "0101",
                "municipality_after": "0147",
            },
        }
    ).encode()


def signed(
    body: bytes, msg_id: str = "msg_1", secret: str = SECRET, at: float = NOW
) -> dict[str, str]:
    return {
        "Webhook-Id": msg_id,
        "Webhook-Timestamp": str(int(at)),
        "Webhook-Signature": signature_header([secret], msg_id, int(at), body),
    }


def test_a_signed_delivery_is_verified_and_recorded() -> None:
    tally = ReceiverTally()
    body = envelope()
    status, delivery = tally.record([SECRET], signed(body), body, NOW)
    assert status == 204
    assert delivery is not None
    assert delivery.event_type == "cpr.person.moved"
    assert delivery.code == "A01"
    assert (delivery.municipality_before, delivery.municipality_after) == ("0101", "0147")
    assert delivery.person == "010170-****"
    assert tally.verified == 1
    assert tally.unique == 1
    assert tally.by_type["cpr.person.moved"] == 1
    assert list(tally.last) == [delivery]


def test_a_wrong_signature_or_an_old_timestamp_is_refused() -> None:
    tally = ReceiverTally()
    body = envelope()
    other = generate_secret()
    assert tally.record([SECRET], signed(body, secret=other), body, NOW) == (401, None)
    assert tally.record([SECRET], signed(body, at=NOW - 3600), body, NOW) == (401, None)
    tampered = body.replace(b"0147", b"0148")
    assert tally.record([SECRET], signed(body), tampered, NOW) == (401, None)
    assert tally.record([SECRET], {}, body, NOW) == (401, None)
    assert tally.refused == 4
    assert tally.verified == 0
    assert tally.requests == 4


def test_a_retried_delivery_counts_once() -> None:
    tally = ReceiverTally()
    body = envelope()
    assert tally.record([SECRET], signed(body), body, NOW)[0] == 204
    status, delivery = tally.record([SECRET], signed(body, at=NOW + 5), body, NOW + 5)
    assert (status, delivery) == (204, None)
    assert tally.duplicates == 1
    assert tally.unique == 1
    assert tally.record([SECRET], signed(body, msg_id="msg_2"), body, NOW)[0] == 204
    assert tally.unique == 2


def test_a_body_that_is_not_json_is_still_counted() -> None:
    tally = ReceiverTally()
    body = b"not json"
    status, delivery = tally.record([SECRET], signed(body), body, NOW)
    assert status == 204
    assert delivery is not None
    assert delivery.event_type == "?"
    assert delivery.person == "******-****"


def test_the_line_shows_no_cpr_number() -> None:
    delivery = Delivery.of("msg_1", json.loads(envelope("2412991234")), NOW)
    line = delivery.line()
    assert "2412991234" not in line
    assert "241299-****" in line
    assert "moved" in line
    assert "0101->0147" in line
    assert mask_pnr(None) == "******-****"
