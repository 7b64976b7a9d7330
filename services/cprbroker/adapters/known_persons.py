"""Which CPR numbers the replica knows: the port behind SF6002's NON_EXISTING_PNR.

SF6002 answers ``NON_EXISTING_PNR`` when asked to follow a number CPR does not
have. cprbroker can only say so once its replica holds a full load; before
that, an unknown number may simply not have appeared in a delta yet, and the
answer is ``ADDED`` as usual. :class:`KnownPersons` is that question:
``complete`` says whether the answer "unknown" can be trusted, ``knows`` asks.

The topic-backed implementation follows a compacted topic (default
``cpr.known-pnrs``) that the processor publishes:

* key = the 10 ASCII digits of a PNR, value = any non-empty bytes (``b"1"``):
  the replica holds this person; a tombstone: it no longer does;
* key = ``!full-load``, value = JSON ``{"complete": true}`` once the replica
  has applied a full load (``{"complete": false}`` or a tombstone withdraws it).

The set is held as ints (a PNR fits in 32 bits of value; a Python int in a
set costs about 70 bytes, so six million persons take about 420 MB).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Protocol

import structlog

from cprbroker.adapters.state_store import Apply, StateLog

log = structlog.get_logger(__name__)

FULL_LOAD_KEY = b"!full-load"


class KnownPersons(Protocol):
    """Whether the replica holds a person, and whether it holds everyone."""

    @property
    def complete(self) -> bool:
        """Whether the replica holds a full load, so an unknown number does not exist."""
        ...

    def knows(self, pnr: str) -> bool:
        """Whether the replica holds the person with CPR number ``pnr`` (10 digits)."""
        ...


def is_non_existing(persons: KnownPersons, pnr: str) -> bool:
    """Whether SF6002 would answer NON_EXISTING_PNR for ``pnr``."""
    return persons.complete and not persons.knows(pnr)


class InMemoryKnownPersons:
    """A fixed set of known persons (tests, and sites without a replica: empty, incomplete)."""

    def __init__(self, pnrs: Iterable[str] = (), *, complete: bool = False) -> None:
        self._pnrs = {int(pnr) for pnr in pnrs}
        self.complete = complete

    def knows(self, pnr: str) -> bool:
        """Whether ``pnr`` is in the set."""
        return pnr.isdigit() and int(pnr) in self._pnrs

    def add(self, pnr: str) -> None:
        """Record that the replica holds ``pnr``."""
        self._pnrs.add(int(pnr))


class TopicKnownPersons:
    """Known persons materialised from the compacted known-PNRs topic."""

    def __init__(self, open_log: Callable[[str, Apply], StateLog], topic: str) -> None:
        self._pnrs: set[int] = set()
        self._complete = False
        self._log = open_log(topic, self._apply)

    @property
    def log(self) -> StateLog:
        """The state log this set follows (started and stopped by the owner)."""
        return self._log

    @property
    def complete(self) -> bool:
        """Whether the processor has declared a full load."""
        return self._complete

    def knows(self, pnr: str) -> bool:
        """Whether the processor has published ``pnr`` as held by the replica."""
        return pnr.isdigit() and int(pnr) in self._pnrs

    def __len__(self) -> int:
        return len(self._pnrs)

    def _apply(self, key: bytes, value: bytes | None) -> None:
        if key == FULL_LOAD_KEY:
            self._complete = _declares_complete(value)
            return
        if len(key) != 10 or not key.isdigit():
            log.warning("known_persons.bad_key", length=len(key))
            return
        if value:
            self._pnrs.add(int(key))
        else:
            self._pnrs.discard(int(key))

    async def publish(self, pnrs: Iterable[str], *, complete: bool | None = None) -> None:
        """Publish ``pnrs`` as known (and optionally the full-load marker).

        The processor is the real publisher; this exists for operators seeding
        the topic and for tests.
        """
        records: list[tuple[bytes, bytes | None]] = [(p.encode("ascii"), b"1") for p in pnrs]
        if complete is not None:
            records.append((FULL_LOAD_KEY, json.dumps({"complete": complete}).encode()))
        await self._log.write(records)


def _declares_complete(value: bytes | None) -> bool:
    if not value:
        return False
    try:
        document = json.loads(value)
    except ValueError:
        log.warning("known_persons.bad_marker")
        return False
    return isinstance(document, dict) and document.get("complete") is True
