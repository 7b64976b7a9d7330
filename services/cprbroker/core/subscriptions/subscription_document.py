"""Subscriptions to and from their JSON form.

Two forms exist. A *request* is what an API client sends to create or replace
a subscription::

    {"name": "Flytninger til sagssystem",
     "endpoint": {"url": "https://sag.example.dk/hooks/cpr", "secret": "whsec_..."},
     "filter": {"municipalities": ["0101"]},
     "payload_level": "thin",
     "status": "paused"}

``name``, ``endpoint.url`` and ``filter`` are required (``{}`` is the
catch-all, asked for on purpose); a missing secret is generated and must be
shown to the client once, in the response to this request; ``payload_level``
defaults to ``full`` and ``status`` to ``active``. A client may pause and
resume but not disable: the broker disables, saying why.

A *document* is the whole subscription as the subscriptions topic stores it:
the request fields plus ``id``, ``owner``, ``created_at``, ``updated_at`` and,
when disabled, ``disabled_reason``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cprbroker.core.delivery.signing import decode_secret, generate_secret
from cprbroker.core.errors import ValidationError, WebhookSecretError

from .filter_document import filter_to_document, parse_filter
from .json_fields import as_object, as_string, child, describe, require
from .model import (
    Endpoint,
    Filter,
    PayloadLevel,
    Subscription,
    SubscriptionState,
    SubscriptionStatus,
)

REQUEST_FIELDS = frozenset({"name", "endpoint", "filter", "payload_level", "status"})
DOCUMENT_FIELDS = REQUEST_FIELDS | {"id", "owner", "created_at", "updated_at", "disabled_reason"}
_ENDPOINT_FIELDS = frozenset({"url", "secret"})
MAX_NAME_LENGTH = 200
MAX_URL_LENGTH = 2000
MAX_REASON_LENGTH = 1000

RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True)
class SubscriptionRequest:
    """A validated request to create or replace a subscription.

    ``secret_generated`` is true when the client gave no secret and one was
    made: the response must show it, and nothing after it may.
    """

    name: str
    endpoint: Endpoint
    filter: Filter
    payload_level: PayloadLevel
    status: SubscriptionStatus
    secret_generated: bool

    def to_subscription(
        self, subscription_id: str, owner: str, now: datetime, created_at: datetime | None = None
    ) -> Subscription:
        """The subscription this request makes; ``created_at`` is kept from the
        one it replaces, if any, else ``now``."""
        return Subscription(
            id=subscription_id,
            owner=owner,
            name=self.name,
            endpoint=self.endpoint,
            filter=self.filter,
            payload_level=self.payload_level,
            status=self.status,
            created_at=created_at or now,
            updated_at=now,
        )


def parse_subscription_request(
    value: object,
    *,
    known_event_types: Collection[str],
    random_bytes: RandomBytes = secrets.token_bytes,
) -> SubscriptionRequest:
    """Validate a client's subscription request.

    Raises :class:`ValidationError` naming the first wrong value by JSON
    pointer (``/filter/age/min``, ``/endpoint/url``, ...).
    """
    document = as_object(value, "", REQUEST_FIELDS)
    name = parse_name(require(document, "name", ""), "/name")
    endpoint, generated = parse_endpoint(
        require(document, "endpoint", ""), "/endpoint", random_bytes=random_bytes
    )
    filter_ = parse_filter(require(document, "filter", ""), known_event_types=known_event_types)
    payload_level = PayloadLevel.FULL
    if "payload_level" in document:
        payload_level = parse_payload_level(document["payload_level"], "/payload_level")
    status = SubscriptionStatus()
    if "status" in document:
        status = parse_requested_status(document["status"], "/status")
    return SubscriptionRequest(name, endpoint, filter_, payload_level, status, generated)


def parse_name(value: object, pointer: str) -> str:
    """A subscription name: a non-empty string of at most 200 characters, trimmed."""
    return as_string(value, pointer, max_length=MAX_NAME_LENGTH).strip()


def parse_endpoint(
    value: object, pointer: str, *, random_bytes: RandomBytes = secrets.token_bytes
) -> tuple[Endpoint, bool]:
    """An endpoint, and whether its secret was generated because none was given.

    The URL must be absolute ``https`` or ``http`` with a host and without
    credentials or fragment. Whether its host is an address the broker may
    call is decided at delivery time, where names are resolved. A given secret
    must be ``whsec_`` + base64 of 24 to 64 bytes.
    """
    document = as_object(value, pointer, _ENDPOINT_FIELDS)
    url = _url(require(document, "url", pointer), child(pointer, "url"))
    if "secret" not in document:
        return Endpoint(url, generate_secret(random_bytes)), True
    at = child(pointer, "secret")
    secret = as_string(document["secret"], at, max_length=200)
    try:
        decode_secret(secret)
    except WebhookSecretError as exc:
        # The message of WebhookSecretError never repeats the secret itself.
        raise ValidationError(at, str(exc)) from exc
    return Endpoint(url, secret), False


def parse_payload_level(value: object, pointer: str) -> PayloadLevel:
    """``full`` or ``thin``."""
    text = as_string(value, pointer, max_length=20)
    try:
        return PayloadLevel(text)
    except ValueError as exc:
        raise ValidationError(pointer, f'must be "full" or "thin", not {describe(text)}') from exc


def parse_requested_status(value: object, pointer: str) -> SubscriptionStatus:
    """A status a client may ask for: ``active`` or ``paused``."""
    text = as_string(value, pointer, max_length=20)
    if text == SubscriptionState.ACTIVE:
        return SubscriptionStatus()
    if text == SubscriptionState.PAUSED:
        return SubscriptionStatus(SubscriptionState.PAUSED)
    if text == SubscriptionState.DISABLED:
        raise ValidationError(
            pointer, 'only the broker disables a subscription; ask for "active" or "paused"'
        )
    raise ValidationError(pointer, f'must be "active" or "paused", not {describe(text)}')


def subscription_to_document(
    subscription: Subscription, *, include_secret: bool = True
) -> dict[str, object]:
    """The document form of ``subscription``.

    With ``include_secret=False`` the endpoint carries only its URL: the form
    for every API response except the one that creates a generated secret.
    """
    endpoint: dict[str, object] = {"url": subscription.endpoint.url}
    if include_secret:
        endpoint["secret"] = subscription.endpoint.secret
    document: dict[str, object] = {
        "id": subscription.id,
        "owner": subscription.owner,
        "name": subscription.name,
        "endpoint": endpoint,
        "filter": filter_to_document(subscription.filter),
        "payload_level": subscription.payload_level.value,
        "status": subscription.status.state.value,
    }
    if subscription.status.reason is not None:
        document["disabled_reason"] = subscription.status.reason
    if subscription.created_at is not None:
        document["created_at"] = subscription.created_at.isoformat()
    if subscription.updated_at is not None:
        document["updated_at"] = subscription.updated_at.isoformat()
    return document


def subscription_from_document(value: object) -> Subscription:
    """Read a stored subscription document (with its secret) back.

    Event types are not checked against a catalogue: a subscription stays
    readable after the catalogue changes. Raises :class:`ValidationError`
    for a document this module would not have written.
    """
    document = as_object(value, "", DOCUMENT_FIELDS)
    endpoint_document = as_object(require(document, "endpoint", ""), "/endpoint", _ENDPOINT_FIELDS)
    require(endpoint_document, "secret", "/endpoint")
    endpoint, _ = parse_endpoint(endpoint_document, "/endpoint")
    return Subscription(
        id=as_string(require(document, "id", ""), "/id", max_length=200),
        owner=as_string(require(document, "owner", ""), "/owner", max_length=200),
        name=parse_name(require(document, "name", ""), "/name"),
        endpoint=endpoint,
        filter=parse_filter(require(document, "filter", ""), known_event_types=None),
        payload_level=parse_payload_level(require(document, "payload_level", ""), "/payload_level"),
        status=_stored_status(document),
        created_at=_timestamp(document, "created_at"),
        updated_at=_timestamp(document, "updated_at"),
    )


def _stored_status(document: Mapping[str, object]) -> SubscriptionStatus:
    text = as_string(require(document, "status", ""), "/status", max_length=20)
    try:
        state = SubscriptionState(text)
    except ValueError as exc:
        raise ValidationError("/status", f"unknown status {describe(text)}") from exc
    if state is SubscriptionState.DISABLED:
        reason = as_string(
            require(document, "disabled_reason", ""),
            "/disabled_reason",
            max_length=MAX_REASON_LENGTH,
        )
        return SubscriptionStatus.disabled(reason)
    if "disabled_reason" in document:
        raise ValidationError(
            "/disabled_reason", f"only a disabled subscription has one, not {text}"
        )
    return SubscriptionStatus(state)


def _timestamp(document: Mapping[str, object], key: str) -> datetime | None:
    if key not in document:
        return None
    pointer = child("", key)
    text = as_string(document[key], pointer, max_length=40)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(
            pointer, f"must be an ISO 8601 timestamp, not {describe(text)}"
        ) from exc
    if moment.tzinfo is None:
        raise ValidationError(pointer, "must carry a UTC offset")
    return moment


def _url(value: object, pointer: str) -> str:
    text = as_string(value, pointer, max_length=MAX_URL_LENGTH)
    if text != text.strip():
        raise ValidationError(pointer, "must not begin or end with whitespace")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        raise ValidationError(pointer, f"is not a valid URL: {exc}") from exc
    if parts.scheme not in ("https", "http"):
        raise ValidationError(pointer, f"must be an https or http URL, not {describe(text)}")
    if not parts.hostname:
        raise ValidationError(pointer, "must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(pointer, "must not carry credentials; use the signing secret")
    if parts.fragment:
        raise ValidationError(pointer, "must not have a fragment")
    return text
