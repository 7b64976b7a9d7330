"""One batch of ``cpr.person-records`` messages in, everything to write out.

:func:`derive_batch` is the processor's work without Kafka or faust: for
each person message it reads the person's replica entry (through ``lookup``,
or from an earlier message of the same batch), derives the new snapshot and
the business events with the core, and says what to write: events for
``cpr.events``, dead letters, newly known PNRs, and the new replica entries.
The caller must write the events first and the replica entries only once the
events are acknowledged (see :mod:`cprbroker.processor.app`).

A person's records from a file the replica entry already reflects (the same
file, or an older one) give nothing: that is how a re-ingested file, or a
batch replayed after a crash whose replica update had landed, adds no event.
A full extract (initial load) fills the replica and gives no events.
A message or person that fails (malformed message, unreadable replica entry,
derivation or encoding error) becomes a dead letter with the error; the rest
of the batch goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

from cprbroker.adapters.event_publisher import EventRecords, Headers
from cprbroker.adapters.person_records import (
    FileEnd,
    PersonMessage,
    dead_letter_headers,
    decode,
)
from cprbroker.core.errors import CprBrokerError
from cprbroker.core.events.apply import derive_person
from cprbroker.core.events.catalogue import Catalogue
from cprbroker.core.events.snapshot import build_snapshot
from cprbroker.processor.replica_codec import ReplicaEntry, decode_entry, encode_entry

log = structlog.get_logger(__name__)

Lookup = Callable[[int, bytes], bytes | None]
"""``lookup(position, key)``: the stored replica entry of the person whose
message is at ``position`` in the batch, or None."""

KafkaRecord = tuple[bytes | None, bytes | None, Headers]


@dataclass(frozen=True, slots=True)
class ReplicaUpdate:
    """Store ``value`` under ``key`` (a PNR) for the message at ``position``."""

    position: int
    key: bytes
    value: bytes


@dataclass(slots=True)
class BatchOutput:
    """What one batch gives (in the order to write it)."""

    events: list[KafkaRecord] = field(default_factory=list)
    dead_letters: list[KafkaRecord] = field(default_factory=list)
    known: list[bytes] = field(default_factory=list)
    """PNRs the replica holds for the first time."""
    updates: list[ReplicaUpdate] = field(default_factory=list)
    file_ends: list[FileEnd] = field(default_factory=list)
    applied: int = 0
    """Persons whose snapshot was updated."""
    skipped: int = 0
    """Persons whose file the replica already reflects."""


class BatchDeriver:
    """Derives batches with one catalogue and one event encoding."""

    def __init__(self, catalogue: Catalogue, events: EventRecords) -> None:
        self._catalogue = catalogue
        self._events = events

    def derive_batch(
        self, messages: Sequence[tuple[bytes | None, bytes | None]], lookup: Lookup
    ) -> BatchOutput:
        """The output of ``messages`` (key, value) read in this order."""
        out = BatchOutput()
        # Entries written by earlier messages of this batch: not in the table yet.
        written: dict[bytes, bytes] = {}
        for position, (key, value) in enumerate(messages):
            try:
                message = decode(key, value)
            except CprBrokerError as exc:
                log.warning("processor.bad_message", error=str(exc))
                out.dead_letters.append((key, value, dead_letter_headers("processor", exc)))
                continue
            if isinstance(message, FileEnd):
                out.file_ends.append(message)
                continue
            pnr_key = message.pnr.encode("ascii")
            stored = written.get(pnr_key)
            if stored is None:
                stored = lookup(position, pnr_key)
            try:
                self._person(position, pnr_key, message, stored, out, written)
            # One person must never block the rest of the file: whatever went
            # wrong (bad data, a deriver bug) goes to the dead-letter topic.
            except Exception as exc:  # noqa: BLE001
                log.warning(
                    "processor.person_failed",
                    file_id=message.file.file_id,
                    error_type=type(exc).__name__,
                )
                out.dead_letters.append((key, value, dead_letter_headers("processor", exc)))
        return out

    def _person(  # noqa: PLR0917 - private, called once per person
        self,
        position: int,
        pnr_key: bytes,
        message: PersonMessage,
        stored: bytes | None,
        out: BatchOutput,
        written: dict[bytes, bytes],
    ) -> None:
        file = message.file
        entry = decode_entry(stored) if stored is not None else None
        if entry is not None and entry.has_applied(file.file_id, file.production_date):
            log.debug(
                "processor.person_skipped", file_id=file.file_id, replica_file_id=entry.file_id
            )
            out.skipped += 1
            return
        previous = entry.snapshot if entry is not None else None
        if file.full:
            snapshot = build_snapshot(message.records, previous)
            records: list[KafkaRecord] = []
        else:
            derivation = derive_person(previous, message.records, file.meta, self._catalogue)
            snapshot = derivation.snapshot
            records = [self._events.record(event) for event in derivation.events]
        value = encode_entry(ReplicaEntry(file.file_id, file.production_date, snapshot))
        out.events.extend(records)
        out.updates.append(ReplicaUpdate(position, pnr_key, value))
        written[pnr_key] = value
        out.applied += 1
        if entry is None:
            out.known.append(pnr_key)
