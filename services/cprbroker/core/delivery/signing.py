"""Standard Webhooks signing: ``whsec_`` secrets, ``v1`` HMAC-SHA256 signatures,
rotation with a grace period, and verification for receivers.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the key is
the base64-decoded part of the secret after ``whsec_``; the header value is
``v1,<base64 signature>``, several separated by single spaces
(https://www.standardwebhooks.com/, spec "Signature scheme").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from secrets import token_bytes

from cprbroker.core.errors import DeliveryPolicyError, WebhookSecretError, WebhookSignatureError

SECRET_PREFIX = "whsec_"  # noqa: S105 - a fixed prefix, not a secret
SIGNATURE_VERSION = "v1"
# The spec asks for keys of 24 to 64 random bytes.
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
DEFAULT_KEY_BYTES = 32
# Receivers reject timestamps further than this from their clock (replay guard).
DEFAULT_TOLERANCE_SECONDS = 300


def generate_secret(
    random_bytes: Callable[[int], bytes] = token_bytes, size: int = DEFAULT_KEY_BYTES
) -> str:
    """Return a new secret ``whsec_<base64 of size random bytes>``."""
    if not MIN_KEY_BYTES <= size <= MAX_KEY_BYTES:
        raise DeliveryPolicyError(
            f"secret size must be {MIN_KEY_BYTES}..{MAX_KEY_BYTES} bytes, got {size}"
        )
    return SECRET_PREFIX + base64.b64encode(random_bytes(size)).decode("ascii")


def decode_secret(secret: str) -> bytes:
    """Return the HMAC key of ``secret``; raise WebhookSecretError if it is not
    ``whsec_`` + base64 of 24..64 bytes. The message never repeats the secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise WebhookSecretError(f"webhook secret must start with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookSecretError(
            f"webhook secret after {SECRET_PREFIX!r} is not valid base64"
        ) from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise WebhookSecretError(
            f"webhook secret key must be {MIN_KEY_BYTES}..{MAX_KEY_BYTES} bytes, got {len(key)}"
        )
    return key


def _signed_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{msg_id}.{timestamp}.".encode() + body


@lru_cache(maxsize=4096)
def _signing_key(secret: str) -> bytes:
    # Every delivery of an endpoint signs with the same few secrets: decode each once.
    return decode_secret(secret)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return ``v1,<base64 HMAC-SHA256(key, id.timestamp.body)>`` for one secret."""
    digest = hmac.digest(_signing_key(secret), _signed_content(msg_id, timestamp, body), "sha256")
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` value: one signature per secret, current
    first, separated by a space, so receivers holding either secret verify."""
    if not secrets:
        raise DeliveryPolicyError("at least one signing secret is needed")
    if len(secrets) == 1:
        return sign(secrets[0], msg_id, timestamp, body)
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


@dataclass(frozen=True, slots=True)
class EndpointSecrets:
    """The signing secrets of one endpoint: the current one, and the previous one
    with the epoch second until which it is still used (rotation grace)."""

    current: str
    previous: str | None = None
    previous_valid_until: float | None = None

    def __post_init__(self) -> None:
        decode_secret(self.current)
        if self.previous is not None:
            decode_secret(self.previous)
            if self.previous_valid_until is None:
                raise DeliveryPolicyError("a previous secret needs previous_valid_until")

    def signing_secrets(self, now: float) -> tuple[str, ...]:
        """Secrets to sign with at ``now``: current, plus previous within its grace."""
        if (
            self.previous is not None
            and self.previous_valid_until is not None
            and now < self.previous_valid_until
        ):
            return (self.current, self.previous)
        return (self.current,)

    def rotate(self, new_secret: str, now: float, grace_seconds: float) -> EndpointSecrets:
        """Return the secrets after rotating to ``new_secret`` at ``now``: the
        current secret stays valid for ``grace_seconds`` more (0 = drop it now)."""
        if grace_seconds < 0:
            raise DeliveryPolicyError(f"rotation grace must be >= 0 s, got {grace_seconds}")
        if grace_seconds == 0:
            return EndpointSecrets(current=new_secret)
        return EndpointSecrets(
            current=new_secret, previous=self.current, previous_valid_until=now + grace_seconds
        )


def _parse_signatures(header: str) -> Iterable[bytes]:
    for item in header.split(" "):
        version, sep, encoded = item.partition(",")
        if not sep or version != SIGNATURE_VERSION:
            # Other schemes (v1a asymmetric) and garbage are skipped, as the spec says.
            continue
        try:
            yield base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue


def verify(
    secrets: Sequence[str],
    *,
    msg_id: str,
    timestamp: str,
    signatures: str,
    body: bytes,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Return if one ``v1`` signature in ``signatures`` matches one of ``secrets``
    and ``timestamp`` is within ``tolerance`` seconds of ``now``; else raise
    WebhookSignatureError. Digests are compared in constant time."""
    if not (msg_id and timestamp and signatures):
        raise WebhookSignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise WebhookSignatureError(
            f"webhook-timestamp {timestamp!r} is not integer seconds"
        ) from exc
    if sent_at < now - tolerance:
        raise WebhookSignatureError(f"webhook-timestamp {sent_at} is too old (now {int(now)})")
    if sent_at > now + tolerance:
        raise WebhookSignatureError(
            f"webhook-timestamp {sent_at} is in the future (now {int(now)})"
        )
    content = _signed_content(msg_id, sent_at, body)
    expected = [hmac.new(decode_secret(s), content, hashlib.sha256).digest() for s in secrets]
    matched = False
    for candidate in _parse_signatures(signatures):
        for digest in expected:
            # No early exit: every pair is compared, so timing says nothing.
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise WebhookSignatureError(f"no valid signature for webhook-id {msg_id!r}")


def verify_headers(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Verify a received webhook from its headers (any case) and raw body;
    return its ``webhook-id`` (receivers deduplicate on it)."""
    lower = {name.lower(): value for name, value in headers.items()}
    msg_id = lower.get("webhook-id", "")
    verify(
        secrets,
        msg_id=msg_id,
        timestamp=lower.get("webhook-timestamp", ""),
        signatures=lower.get("webhook-signature", ""),
        body=body,
        now=now,
        tolerance=tolerance,
    )
    return msg_id
