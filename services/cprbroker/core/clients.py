"""API clients: the subscribing systems that may call the subscription API.

A client has a name, a bearer token of which only the SHA-256 hash is kept,
and entitlements: which event types it may subscribe to and receive, whether
it may see persons with name-and-address protection in full, and whether it
administers every subscription. A revoked client is kept (with the time it was
revoked) so its token answers "forbidden" rather than "unknown".

Tokens carry 256 random bits, so a plain SHA-256 is the right hash (there is
nothing to brute-force, unlike a password) and lookups by hash reveal nothing
about other tokens through timing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from cprbroker.core.errors import ApiClientError

TOKEN_PREFIX = "cprb_"  # noqa: S105 - a prefix that marks tokens, not a secret
_TOKEN_BYTES = 32
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def issue_token(token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A new bearer token: ``cprb_`` + URL-safe base64 of 32 random bytes."""
    raw = token_bytes(_TOKEN_BYTES)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def hash_token(token: str) -> str:
    """The stored form of ``token``: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_client_name(name: str) -> str:
    """Return ``name`` if it is a valid client name, else raise ApiClientError."""
    if not _NAME.fullmatch(name):
        raise ApiClientError(
            f"client name {name!r} must be 1-63 characters of a-z, 0-9, '.', '_', '-' "
            "starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class ApiClient:
    """One subscribing system and what it is entitled to.

    ``event_types`` None means every event type; a set limits the client to
    those. ``protected_data`` lets it see name and address of protected
    persons; ``admin`` lets it see and change every client's subscriptions.
    """

    name: str
    token_sha256: str
    created_at: datetime
    event_types: frozenset[str] | None = None
    protected_data: bool = False
    admin: bool = False
    revoked_at: datetime | None = None

    def __repr__(self) -> str:
        # The hash is not secret, but it has no business in log lines either.
        return f"ApiClient(name={self.name!r}, admin={self.admin}, revoked={self.revoked})"

    @property
    def revoked(self) -> bool:
        """Whether the client's token no longer grants access."""
        return self.revoked_at is not None

    def entitled_to(self, event_type: str) -> bool:
        """Whether the client may subscribe to and receive ``event_type``."""
        return self.admin or self.event_types is None or event_type in self.event_types

    def not_entitled(self, event_types: Iterable[str]) -> list[str]:
        """Those of ``event_types`` the client may not have, sorted."""
        return sorted(t for t in set(event_types) if not self.entitled_to(t))

    def token_matches(self, token: str) -> bool:
        """Whether ``token`` is this client's token (constant-time comparison)."""
        return hmac.compare_digest(hash_token(token), self.token_sha256)

    def revoke(self, at: datetime) -> ApiClient:
        """This client, revoked at ``at`` (an already revoked client keeps its time)."""
        return self if self.revoked else replace(self, revoked_at=at)

    def to_json(self) -> bytes:
        """The record value on the clients topic."""
        document = {
            "name": self.name,
            "token_sha256": self.token_sha256,
            "created_at": self.created_at.isoformat(),
            "event_types": None if self.event_types is None else sorted(self.event_types),
            "protected_data": self.protected_data,
            "admin": self.admin,
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }
        return json.dumps(document, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> ApiClient:
        """Decode a record value written by :meth:`to_json`."""
        try:
            document = json.loads(raw)
            event_types = document.get("event_types")
            revoked_at = document.get("revoked_at")
            return cls(
                name=str(document["name"]),
                token_sha256=str(document["token_sha256"]),
                created_at=datetime.fromisoformat(document["created_at"]),
                event_types=None if event_types is None else frozenset(map(str, event_types)),
                protected_data=bool(document.get("protected_data", False)),
                admin=bool(document.get("admin", False)),
                revoked_at=None if revoked_at is None else datetime.fromisoformat(revoked_at),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiClientError(f"malformed client record: {exc}") from exc

    def describe(self) -> dict[str, object]:
        """What an operator sees in ``cprbroker clients list`` (no hash)."""
        return {
            "name": self.name,
            "event_types": None if self.event_types is None else sorted(self.event_types),
            "protected_data": self.protected_data,
            "admin": self.admin,
            "created_at": self.created_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


class ClientDirectory:
    """Every known client, by name and by token hash.

    Fed one record at a time with :meth:`apply` (the clients topic in order),
    so a process can rebuild it from the topic and keep it current.
    """

    def __init__(self) -> None:
        self._by_name: dict[str, ApiClient] = {}
        self._by_hash: dict[str, ApiClient] = {}

    def apply(self, name: str, client: ApiClient | None) -> None:
        """Record the latest state of client ``name`` (None: forget it)."""
        old = self._by_name.pop(name, None)
        if old is not None:
            self._by_hash.pop(old.token_sha256, None)
        if client is not None:
            self._by_name[name] = client
            self._by_hash[client.token_sha256] = client

    def authenticate(self, token: str) -> ApiClient | None:
        """The client whose token is ``token`` (revoked or not), or None."""
        client = self._by_hash.get(hash_token(token))
        if client is None or not client.token_matches(token):
            return None
        return client

    def get(self, name: str) -> ApiClient | None:
        """The client called ``name``, or None."""
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[ApiClient]:
        return iter(sorted(self._by_name.values(), key=lambda c: c.name))

    def __len__(self) -> int:
        return len(self._by_name)
