"""Audit entries: the record form, splitting large entries, and the operator's query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cprbroker.core.audit import AuditEntry, AuditQuery, PnrOutcome, outcomes

AT = datetime(2026, 3, 4, 15, 36, tzinfo=UTC)


def entry(**changes: object) -> AuditEntry:
    fields: dict[str, object] = {
        "at": AT,
        "client": "sagssystem",
        "action": "pnrs.batch",
        "result": "OK",
        "request_id": "r1",
        "on_behalf_of": "sagsbehandler-1",
        "subscription_id": "s1",
        "status": 200,
        "pnrs": (PnrOutcome("0701614011", "ADDED"),),
        "criteria": {"filter": {"municipalities": ["0101"]}},
    }
    fields.update(changes)
    return AuditEntry(**fields)  # type: ignore[arg-type]


def test_round_trip() -> None:
    original = entry(extra={"detail": "x"})
    assert AuditEntry.from_json(original.to_json()) == original


def test_large_entries_split_into_numbered_parts_that_keep_every_pnr() -> None:
    pnrs = outcomes([f"0101611{n:03d}" for n in range(12)], "ADDED")
    parts = entry(pnrs=pnrs).split(size=5)
    assert [(p.part, p.parts, len(p.pnrs)) for p in parts] == [(1, 3, 5), (2, 3, 5), (3, 3, 2)]
    assert tuple(item for p in parts for item in p.pnrs) == pnrs
    assert all(p.request_id == "r1" and p.client == "sagssystem" for p in parts)
    decoded = AuditEntry.from_json(parts[1].to_json())
    assert (decoded.part, decoded.parts) == (2, 3)
    assert entry().split(size=5) == [entry()]


def test_query_combines_its_conditions() -> None:
    subject = entry()
    assert AuditQuery().matches(subject)
    assert AuditQuery(client="sagssystem", pnr="0701614011", since=AT).matches(subject)
    assert not AuditQuery(client="other").matches(subject)
    assert not AuditQuery(pnr="0707614226").matches(subject)
    assert not AuditQuery(since=AT + timedelta(seconds=1)).matches(subject)
