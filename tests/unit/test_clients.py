"""API clients: tokens, hashes, entitlements, the directory and the record form."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from cprbroker.core.clients import (
    ApiClient,
    ClientDirectory,
    check_client_name,
    hash_token,
    issue_token,
)
from cprbroker.core.errors import ApiClientError

NOW = datetime(2026, 3, 4, 15, 36, tzinfo=UTC)
OLD, NEW, DEFAULT = "cprb_old", "cprb_new", "cprb_x"  # synthetic tokens, not secrets


def client(name: str = "sagssystem", token: str = DEFAULT, **changes: object) -> ApiClient:
    return ApiClient(name=name, token_sha256=hash_token(token), created_at=NOW, **changes)  # type: ignore[arg-type]


def test_tokens_are_random_prefixed_and_stored_only_as_sha256() -> None:
    first, second = issue_token(), issue_token()
    assert first != second
    assert first.startswith("cprb_")
    assert len(first) >= 40  # 32 random bytes in URL-safe base64
    assert hash_token(first) == hashlib.sha256(first.encode()).hexdigest()
    assert issue_token(lambda n: b"\x00" * n) == "cprb_" + "A" * 43


def test_directory_authenticates_by_token_and_forgets_replaced_tokens() -> None:
    directory = ClientDirectory()
    directory.apply("sagssystem", client("sagssystem", OLD))
    assert directory.authenticate(OLD) is not None
    assert directory.authenticate("cprb_other") is None
    directory.apply("sagssystem", client("sagssystem", NEW))
    assert directory.authenticate(OLD) is None, "a replaced token no longer works"
    authenticated = directory.authenticate(NEW)
    assert authenticated is not None
    assert authenticated.name == "sagssystem"
    directory.apply("sagssystem", None)
    assert directory.authenticate(NEW) is None
    assert len(directory) == 0


def test_entitlements() -> None:
    limited = client(event_types=frozenset({"cpr.person.moved"}))
    assert limited.entitled_to("cpr.person.moved")
    assert not limited.entitled_to("cpr.person.died")
    assert limited.not_entitled(["cpr.person.died", "cpr.person.moved", "a.b"]) == [
        "a.b",
        "cpr.person.died",
    ]
    assert client().entitled_to("cpr.person.died"), "no list means every event type"
    admin = client(event_types=frozenset(), admin=True)
    assert admin.entitled_to("cpr.person.died")


def test_revocation_keeps_the_first_time() -> None:
    later = datetime(2026, 5, 1, tzinfo=UTC)
    revoked = client().revoke(NOW)
    assert revoked.revoked
    assert revoked.revoke(later).revoked_at == NOW


def test_record_round_trip_and_no_hash_in_repr_or_listing() -> None:
    original = client(
        event_types=frozenset({"cpr.person.moved"}), protected_data=True, revoked_at=NOW
    )
    assert ApiClient.from_json(original.to_json()) == original
    assert original.token_sha256 not in repr(original)
    assert "token_sha256" not in original.describe()
    with pytest.raises(ApiClientError):
        ApiClient.from_json(b'{"name": "x"}')


@pytest.mark.parametrize("name", ["sagssystem", "kmd.sag-1", "a", "x" * 63])
def test_good_names(name: str) -> None:
    assert check_client_name(name) == name


@pytest.mark.parametrize("name", ["", "Sagssystem", "-x", "a b", "x" * 64, "æble"])
def test_bad_names(name: str) -> None:
    with pytest.raises(ApiClientError):
        check_client_name(name)
