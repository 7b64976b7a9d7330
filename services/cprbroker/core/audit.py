"""The audit trail: who read or changed which subscription or CPR-number list, when.

Danish rules (bek. 528/2000 §19 and its successors) ask for a machine log of
every use of personal data with the time, the user, the type of use and the
person or search criterion concerned, kept for six months. Every API call that
reads or changes a subscription or a list produces one :class:`AuditEntry`
(or several, when the PNRs involved are too many for one Kafka record), and
the audit topic is the only place where CPR numbers are written outside the
data itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

# A Kafka record is limited to about 1 MB by default; a PNR item is about
# 40 bytes of JSON, so 5,000 per entry leaves ample room for the rest.
MAX_PNRS_PER_ENTRY = 5_000


@dataclass(frozen=True)
class PnrOutcome:
    """One CPR number an audited call touched, and what happened to it."""

    pnr: str
    result: str


@dataclass(frozen=True)
class AuditEntry:
    """One audited call (or one part of it, see :meth:`split`).

    ``action`` names what was asked (``subscription.create``, ``pnrs.add``,
    ...); ``result`` is the outcome of the call as a whole (``OK``,
    ``NOT_FOUND``, ``FORBIDDEN``, an SF6002 answer, ...); ``pnrs`` are the
    CPR numbers involved with their own outcome; ``criteria`` the filter or
    other parameters asked for. ``part``/``parts`` number the entries of a
    call that had to be split.
    """

    at: datetime
    client: str
    action: str
    result: str
    request_id: str
    on_behalf_of: str | None = None
    subscription_id: str | None = None
    status: int | None = None
    pnrs: tuple[PnrOutcome, ...] = ()
    criteria: Mapping[str, Any] | None = None
    part: int = 1
    parts: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict)

    def split(self, size: int = MAX_PNRS_PER_ENTRY) -> list[AuditEntry]:
        """This entry as one or more entries of at most ``size`` PNRs each."""
        if len(self.pnrs) <= size:
            return [self]
        chunks = [self.pnrs[i : i + size] for i in range(0, len(self.pnrs), size)]
        return [
            replace(self, pnrs=chunk, part=index, parts=len(chunks))
            for index, chunk in enumerate(chunks, start=1)
        ]

    def mentions(self, pnr: str) -> bool:
        """Whether ``pnr`` is among the CPR numbers this entry names."""
        return any(item.pnr == pnr for item in self.pnrs)

    def to_document(self) -> dict[str, Any]:
        """The entry as a JSON object (the audit topic's record value)."""
        document: dict[str, Any] = {
            "at": self.at.isoformat(),
            "client": self.client,
            "on_behalf_of": self.on_behalf_of,
            "action": self.action,
            "subscription_id": self.subscription_id,
            "result": self.result,
            "status": self.status,
            "request_id": self.request_id,
            "pnrs": [{"pnr": item.pnr, "result": item.result} for item in self.pnrs],
            "criteria": dict(self.criteria) if self.criteria is not None else None,
        }
        if self.parts > 1:
            document["part"] = self.part
            document["parts"] = self.parts
        if self.extra:
            document["extra"] = dict(self.extra)
        return document

    def to_json(self) -> bytes:
        """The audit topic's record value."""
        return json.dumps(self.to_document(), separators=(",", ":"), default=str).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> AuditEntry:
        """Decode a record value written by :meth:`to_json`.

        Raises ValueError (or KeyError/TypeError) for a record that is not one.
        """
        document = json.loads(raw)
        return cls(
            at=datetime.fromisoformat(document["at"]),
            client=str(document["client"]),
            on_behalf_of=document.get("on_behalf_of"),
            action=str(document["action"]),
            subscription_id=document.get("subscription_id"),
            result=str(document["result"]),
            status=document.get("status"),
            request_id=str(document.get("request_id", "")),
            pnrs=tuple(
                PnrOutcome(str(item["pnr"]), str(item["result"]))
                for item in document.get("pnrs") or ()
            ),
            criteria=document.get("criteria"),
            part=int(document.get("part", 1)),
            parts=int(document.get("parts", 1)),
            extra=document.get("extra") or {},
        )


@dataclass(frozen=True)
class AuditQuery:
    """Which entries ``cprbroker audit`` prints: all of its conditions must hold."""

    client: str | None = None
    pnr: str | None = None
    since: datetime | None = None

    def matches(self, entry: AuditEntry) -> bool:
        """Whether ``entry`` satisfies every condition of the query."""
        if self.client is not None and entry.client != self.client:
            return False
        if self.since is not None and entry.at < self.since:
            return False
        return self.pnr is None or entry.mentions(self.pnr)


def outcomes(pnrs: Sequence[str], result: str) -> tuple[PnrOutcome, ...]:
    """The same ``result`` for each of ``pnrs``."""
    return tuple(PnrOutcome(pnr, result) for pnr in pnrs)


def filter_entries(entries: Iterator[AuditEntry], query: AuditQuery) -> Iterator[AuditEntry]:
    """The entries of ``entries`` that ``query`` matches, in order."""
    return (entry for entry in entries if query.matches(entry))
