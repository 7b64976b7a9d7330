"""Apply a parsed extract file to a replica and derive its business events.

This is the whole pipeline without Kafka: sequence check, then per person
snapshot and events, then one atomic store of all snapshots and the file's
mark. ``cprbroker events`` runs it against a local file; the processor runs
:func:`derive_person` per record group and :func:`check_sequence` at ingest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cprbroker.core.cpr.records import Extract, PersonRecords
from cprbroker.core.errors import RecordError
from cprbroker.core.events.catalogue import Catalogue
from cprbroker.core.events.derive import derive_events
from cprbroker.core.events.event import BusinessEvent, ExtractMeta
from cprbroker.core.events.model import Snapshot
from cprbroker.core.events.replica import ReplicaState
from cprbroker.core.events.sequence import Decision, FileMark, check_sequence
from cprbroker.core.events.snapshot import build_snapshot, change_codes


@dataclass(frozen=True, slots=True)
class Derivation:
    """One person's new snapshot and the events of one file."""

    snapshot: Snapshot
    events: list[BusinessEvent]


def derive_person(
    previous: Snapshot | None,
    records: PersonRecords,
    meta: ExtractMeta,
    catalogue: Catalogue,
) -> Derivation:
    """The snapshot of the person in ``records`` after this file, and the
    business events the file gives for them (:func:`derive_events`)."""
    current = build_snapshot(records, previous)
    events = derive_events(previous, current, change_codes(records), meta, catalogue)
    return Derivation(current, events)


def extract_meta(extract: Extract) -> ExtractMeta:
    """What events need to know about ``extract`` (its 000 record)."""
    start = extract.start
    previous = start.previous_production_date
    return ExtractMeta(
        file_id=extract.file_id,
        production_date=start.production_date.isoformat(),
        task_number=start.opgavenr,
        previous_production_date=previous.isoformat() if previous is not None else None,
    )


def file_mark(extract: Extract) -> FileMark:
    """Where ``extract`` stands in the sequence of files."""
    meta = extract_meta(extract)
    return FileMark(meta.task_number, meta.production_date, meta.previous_production_date)


@dataclass(slots=True)
class FileOutcome:
    """What applying one file did."""

    decision: Decision
    events: list[BusinessEvent] = field(default_factory=list)
    persons_applied: int = 0
    rejected: list[RecordError] = field(default_factory=list)
    """Bad records; their persons were left out (the rest of the file applied)."""


def apply_extract(
    extract: Extract,
    replica: ReplicaState,
    catalogue: Catalogue,
    *,
    allow_gap: bool = False,
    full: bool = False,
) -> FileOutcome:
    """Apply ``extract`` to ``replica`` and return its events.

    A refused file (gap, older file) and an already applied one change
    nothing. A ``full`` extract (initial load) fills the replica and gives no
    events. Otherwise every well-formed person's snapshot is stored, with the
    file's mark, in one ``replica.apply`` call, so a failure applies nothing.
    """
    mark = file_mark(extract)
    decision = check_sequence(replica.last_applied(), mark, allow_gap=allow_gap, full=full)
    if not decision.applies:
        return FileOutcome(decision)
    meta = extract_meta(extract)
    snapshots: dict[str, Snapshot] = {}
    events: list[BusinessEvent] = []
    for person in extract.persons:
        previous = replica.get(person.pnr)
        derivation = derive_person(previous, person, meta, catalogue)
        snapshots[person.pnr] = derivation.snapshot
        if not full:
            events.extend(derivation.events)
    replica.apply(mark, snapshots)
    return FileOutcome(
        decision,
        events=events,
        persons_applied=len(snapshots),
        rejected=list(extract.rejected),
    )
