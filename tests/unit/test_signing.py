"""Standard Webhooks signing, checked against the reference library."""

from __future__ import annotations

import base64
import datetime as dt
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from cprbroker.core.delivery.signing import (
    EndpointSecrets,
    decode_secret,
    generate_secret,
    sign,
    signature_header,
    verify,
    verify_headers,
)
from cprbroker.core.errors import (
    DeliveryPolicyError,
    WebhookSecretError,
    WebhookSignatureError,
)

BODY = '{"specversion":"1.0","id":"ev-1","data":{"navn":"Æblegrød"}}'.encode()
MSG_ID = "msg_0123456789abcdef"


def _secret(fill: int) -> str:
    return "whsec_" + base64.b64encode(bytes([fill]) * 32).decode()


def _headers(signature: str, timestamp: int) -> dict[str, str]:
    return {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def test_generated_secret_has_prefix_and_decodes_to_the_random_bytes() -> None:
    secret = generate_secret(lambda n: bytes(range(n)))
    assert secret.startswith("whsec_")
    assert decode_secret(secret) == bytes(range(32))
    assert generate_secret() != generate_secret()


def test_generate_secret_refuses_sizes_outside_the_spec() -> None:
    with pytest.raises(DeliveryPolicyError):
        generate_secret(size=16)


@pytest.mark.parametrize(
    "bad",
    ["abc", "whsec_", "whsec_!!!notbase64", "whsec_" + base64.b64encode(b"short").decode()],
)
def test_decode_secret_refuses_malformed_secrets_without_echoing_them(bad: str) -> None:
    with pytest.raises(WebhookSecretError) as info:
        decode_secret(bad)
    if len(bad) > len("whsec_"):
        assert bad[len("whsec_") :] not in str(info.value)


def test_reference_library_verifies_our_signature() -> None:
    secret = generate_secret()
    now = int(time.time())
    header = signature_header([secret], MSG_ID, now, BODY)
    payload = Webhook(secret).verify(BODY, _headers(header, now))
    assert payload["data"]["navn"] == "Æblegrød"


def test_our_signature_equals_the_reference_signature() -> None:
    secret = _secret(7)
    now = 1_700_000_000
    reference = Webhook(secret).sign(
        MSG_ID, dt.datetime.fromtimestamp(now, tz=dt.UTC), BODY.decode()
    )
    assert sign(secret, MSG_ID, now, BODY) == reference


def test_reference_library_rejects_a_tampered_body() -> None:
    secret = generate_secret()
    now = int(time.time())
    header = signature_header([secret], MSG_ID, now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"ev-1", b"ev-2"), _headers(header, now))


def test_rotation_sends_both_signatures_and_either_secret_verifies() -> None:
    old, new = _secret(1), _secret(2)
    rotated = EndpointSecrets(current=old).rotate(new, now=1000.0, grace_seconds=3600)
    now = int(time.time())
    # Within the grace period both secrets sign.
    header = signature_header(rotated.signing_secrets(1000.0 + 3599), MSG_ID, now, BODY)
    assert len(header.split(" ")) == 2
    assert header.split(" ")[0] == sign(new, MSG_ID, now, BODY)
    Webhook(old).verify(BODY, _headers(header, now))
    Webhook(new).verify(BODY, _headers(header, now))
    # After it only the new one does: a receiver still on the old secret fails.
    header = signature_header(rotated.signing_secrets(1000.0 + 3600), MSG_ID, now, BODY)
    Webhook(new).verify(BODY, _headers(header, now))
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, _headers(header, now))


def test_rotation_with_zero_grace_drops_the_old_secret_at_once() -> None:
    rotated = EndpointSecrets(current=_secret(1)).rotate(_secret(2), now=5.0, grace_seconds=0)
    assert rotated.signing_secrets(5.0) == (_secret(2),)
    with pytest.raises(DeliveryPolicyError):
        EndpointSecrets(current=_secret(1)).rotate(_secret(2), now=5.0, grace_seconds=-1)


def test_endpoint_secrets_validate_their_secrets() -> None:
    with pytest.raises(WebhookSecretError):
        EndpointSecrets(current="whsec_nope")
    with pytest.raises(DeliveryPolicyError):
        EndpointSecrets(current=_secret(1), previous=_secret(2))


def test_verify_accepts_reference_library_signature_and_returns_id() -> None:
    secret = _secret(3)
    now = 1_700_000_000
    reference = Webhook(secret).sign(
        MSG_ID, dt.datetime.fromtimestamp(now, tz=dt.UTC), BODY.decode()
    )
    headers = {k.upper(): v for k, v in _headers(f"v1a,xyz {reference}", now).items()}
    assert verify_headers([secret], headers, BODY, now=now + 10) == MSG_ID


@pytest.mark.parametrize(
    ("timestamp", "now", "message"),
    [(1000, 1000 + 301, "too old"), (1000, 1000 - 301, "future"), ("abc", 1000, "integer")],
)
def test_verify_enforces_timestamp_tolerance(timestamp: int | str, now: int, message: str) -> None:
    secret = _secret(4)
    ts = timestamp if isinstance(timestamp, int) else 1000
    signatures = sign(secret, MSG_ID, ts, BODY)
    with pytest.raises(WebhookSignatureError, match=message):
        verify(
            [secret],
            msg_id=MSG_ID,
            timestamp=str(timestamp),
            signatures=signatures,
            body=BODY,
            now=now,
        )


def test_verify_refuses_wrong_secret_missing_headers_and_garbage() -> None:
    good, other = _secret(5), _secret(6)
    signature = sign(good, MSG_ID, 1000, BODY)
    with pytest.raises(WebhookSignatureError, match="no valid signature"):
        verify([other], msg_id=MSG_ID, timestamp="1000", signatures=signature, body=BODY, now=1000)
    with pytest.raises(WebhookSignatureError, match="no valid signature"):
        verify(
            [good], msg_id=MSG_ID, timestamp="1000", signatures="v1,@@@ v2,x", body=BODY, now=1000
        )
    with pytest.raises(WebhookSignatureError, match="missing"):
        verify_headers([good], {"webhook-id": MSG_ID}, BODY, now=1000)
    # The id is signed: the same signature under another id fails.
    with pytest.raises(WebhookSignatureError):
        verify([good], msg_id="msg_x", timestamp="1000", signatures=signature, body=BODY, now=1000)
