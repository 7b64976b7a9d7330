"""The business event: what the broker publishes on ``cpr.events`` and sends
to webhooks (Avro record ``dk.cprbroker.v1.BusinessEvent``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cprbroker.core.events.model import (
    Address,
    Domain,
    DomainValue,
    Protection,
    Snapshot,
)

EVENT_ID_NAMESPACE = uuid.UUID("36f1eb59-3de5-5c2b-8af0-db16fab25f35")
"""uuid5 namespace of event ids (itself uuid5(URL, "urn:cprbroker:event:v1"));
changing it would give every re-ingested file new ids, so it never changes."""


@dataclass(frozen=True, slots=True)
class ChangeCode:
    """One 099 record: the change code, its derived mark (None = main person)
    and TIMESTAMPU as local ``yyyy-MM-ddTHH:mm`` (None when blank)."""

    code: str
    mark: str | None = None
    occurred_at: str | None = None


@dataclass(frozen=True, slots=True)
class ExtractMeta:
    """What an event needs to know about the file it came from (record 000)."""

    file_id: str
    """Identity of the file, OPGAVENR-PRODDTO (``Extract.file_id``)."""
    production_date: str
    """000 PRODDTO as ``yyyy-MM-dd``."""
    task_number: str = ""
    """000 OPGAVENR."""
    previous_production_date: str | None = None
    """000 PRODDTOFORRIG as ``yyyy-MM-dd``; None when the file has none."""


def event_id(file_id: str, pnr: str, event_type: str, code: str | None, mark: str | None) -> str:
    """The deterministic id of an event: uuid5 over file id, PNR, event type,
    CPR change code and derived mark. Blank and missing code/mark are the same."""
    name = "\x1f".join((file_id, pnr, event_type, code or "", mark or ""))
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, name))


@dataclass(frozen=True, slots=True)
class DomainChange:
    """Before and after of the one snapshot domain an event is about."""

    domain: Domain
    before: DomainValue
    after: DomainValue


@dataclass(frozen=True, slots=True)
class BusinessEvent:
    """One business event about one person from one extract file."""

    id: str
    type: str
    pnr: str
    cpr_event_code: str | None
    derived_mark: str | None
    occurred_at: str | None
    production_date: str
    file_id: str
    municipality_before: str | None
    municipality_after: str | None
    change: DomainChange | None
    snapshot: Snapshot
    active_protections: tuple[Protection, ...] = ()

    @property
    def birth_date(self) -> str | None:
        """The person's birth date (``yyyy-MM-dd``), for age filters."""
        return self.snapshot.birth_date

    @property
    def address(self) -> Address | None:
        """The person's current address, for address filters."""
        return self.snapshot.address

    @property
    def event_date(self) -> str:
        """The day the event happened (``yyyy-MM-dd``): the date part of
        ``occurred_at``, else the production date of the file."""
        if self.occurred_at is not None:
            return self.occurred_at[:10]
        return self.production_date

    @property
    def municipalities(self) -> frozenset[str]:
        """The municipalities the event concerns (before and after)."""
        return frozenset(
            code for code in (self.municipality_before, self.municipality_after) if code
        )
