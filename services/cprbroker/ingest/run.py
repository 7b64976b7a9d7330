"""The ingest role: CPR extract files onto ``cpr.person-records``.

For each file, in the order given: parse it (a framing error refuses the
file), check it follows the last file published (:func:`check_sequence`: a gap
or an older file is refused, naming both dates, unless ``allow_gap``; the same
file again changes nothing and says so), publish one message per person in
file order (key = PNR), refused persons to the dead-letter topic, wait until
Kafka acknowledged all of them, write an end-of-file mark to every partition,
and only then record the file as the last one published.

A crash anywhere before that last step leaves the previous mark, so the same
file is published again on the next run; the processor recognises persons it
already applied from that file and derives nothing for them twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import structlog
from aiokafka import AIOKafkaProducer

from cprbroker.adapters.ingest_state import IngestState, KafkaIngestState
from cprbroker.adapters.kafka_admin import ensure_topics
from cprbroker.adapters.kafka_producer import start_producer
from cprbroker.adapters.person_records import (
    FILE_END_KEY,
    FileEnd,
    FileInfo,
    dead_letter_headers,
    encode_file_end,
    encode_person,
    encode_rejected,
)
from cprbroker.adapters.person_records_sink import KafkaPersonSink, PersonSink
from cprbroker.core.cpr.parser import parse_extract
from cprbroker.core.errors import ExtractError
from cprbroker.core.events.apply import extract_meta, file_mark
from cprbroker.core.events.sequence import Verdict, check_sequence
from cprbroker.core.topics import topic_specs
from cprbroker.ingest.settings import IngestSettings

log = structlog.get_logger(__name__)

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_REFUSED = 2


class Outcome(enum.Enum):
    """What became of one file."""

    PUBLISHED = "published"
    ALREADY_APPLIED = "already_applied"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class FileReport:
    """What ingesting one file did; ``message`` is fit for the operator (no PNR)."""

    path: Path
    outcome: Outcome
    message: str
    persons: int = 0
    rejected: int = 0
    seconds: float = 0.0


async def ingest_file(
    path: Path,
    *,
    state: IngestState,
    sink: PersonSink,
    full: bool = False,
    allow_gap: bool = False,
) -> FileReport:
    """Publish the persons of the extract file ``path`` (module docstring).

    Raises KafkaUnavailableError when Kafka fails; the file is then not
    recorded as published.
    """
    started = time.monotonic()
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        return FileReport(path, Outcome.REFUSED, f"file refused: cannot read it: {exc.strerror}")
    try:
        extract = parse_extract(data, source=str(path))
    except ExtractError as exc:
        return FileReport(path, Outcome.REFUSED, str(exc))
    del data
    mark = file_mark(extract)
    decision = check_sequence(state.last_applied(), mark, allow_gap=allow_gap, full=full)
    if decision.refused:
        hint = "; use --allow-gap to publish it anyway" if decision.verdict is Verdict.GAP else ""
        return FileReport(path, Outcome.REFUSED, decision.message + hint)
    if decision.verdict is Verdict.ALREADY_APPLIED:
        return FileReport(path, Outcome.ALREADY_APPLIED, decision.message)
    file = FileInfo.of(extract_meta(extract), full=full, source=path.name)
    log.info("ingest.file_started", file_id=file.file_id, full=full, persons=len(extract.persons))
    for person in extract.persons:
        await sink.send_person(person.pnr.encode("ascii"), encode_person(file, person))
    for error in extract.rejected:
        key = error.pnr.encode("ascii") if error.pnr else None
        await sink.send_dead_letter(
            key, encode_rejected(file, error), dead_letter_headers("ingest", error)
        )
    await sink.flush()
    partitions = await sink.partitions()
    for partition in range(partitions):
        end = FileEnd(file, partition, partitions, len(extract.persons))
        await sink.send_mark(partition, FILE_END_KEY, encode_file_end(end))
    await sink.flush()
    await state.record(mark, file_id=file.file_id, persons=len(extract.persons), full=full)
    seconds = time.monotonic() - started
    log.info(
        "ingest.file_published",
        file_id=file.file_id,
        persons=len(extract.persons),
        rejected=len(extract.rejected),
        seconds=round(seconds, 3),
    )
    return FileReport(
        path,
        Outcome.PUBLISHED,
        f"published ({decision.message})",
        persons=len(extract.persons),
        rejected=len(extract.rejected),
        seconds=seconds,
    )


async def ingest_files(
    paths: Sequence[Path],
    *,
    state: IngestState,
    sink: PersonSink,
    full: bool = False,
    allow_gap: bool = False,
    err: TextIO | None = None,
) -> int:
    """Ingest ``paths`` in order and report each on ``err``; stop at the first
    refused file. Returns the exit status: 0 all published (or already
    applied), 1 some persons were refused (dead-lettered), 2 a file was refused."""
    err = err or sys.stderr
    status = EXIT_OK
    for path in paths:
        report = await ingest_file(path, state=state, sink=sink, full=full, allow_gap=allow_gap)
        if report.outcome is Outcome.REFUSED:
            print(f"{path}: {report.message}", file=err)
            return EXIT_REFUSED
        if report.outcome is Outcome.ALREADY_APPLIED:
            print(f"{path}: {report.message}", file=err)
            continue
        if report.rejected:
            status = EXIT_REJECTED
        rate = report.persons / report.seconds if report.seconds > 0 else 0.0
        print(
            f"{path}: {report.message}: {report.persons} persons, "
            f"{report.rejected} refused to the dead-letter topic, "
            f"{report.seconds:.1f} s ({rate:,.0f} persons/s)",
            file=err,
        )
    return status


def new_producer(settings: IngestSettings) -> AIOKafkaProducer:
    """The ingest producer: idempotent (per-partition order survives retries),
    acknowledged by all in-sync replicas, batched."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=settings.linger_ms,
        max_batch_size=settings.batch_bytes,
        max_request_size=max(4 * 1024 * 1024, settings.batch_bytes),
        compression_type=settings.compression_type,
    )


async def run_ingest(
    settings: IngestSettings,
    paths: Sequence[Path],
    *,
    full: bool = False,
    allow_gap: bool = False,
    err: TextIO | None = None,
) -> int:
    """Connect to Kafka, ingest ``paths`` (:func:`ingest_files`), disconnect.

    Returns the exit status; raises KafkaUnavailableError when Kafka fails.
    """
    async with connected(settings) as (state, sink):
        return await ingest_files(
            paths, state=state, sink=sink, full=full, allow_gap=allow_gap, err=err
        )


@contextlib.asynccontextmanager
async def connected(
    settings: IngestSettings,
) -> AsyncIterator[tuple[KafkaIngestState, KafkaPersonSink]]:
    """The ingest state and the person sink on Kafka, for the length of the block.

    Creates ingest's topics when the settings say so. Raises
    KafkaUnavailableError when Kafka cannot be reached.
    """
    names = settings.topics
    if settings.create_topics:
        wanted = {names.person_records, names.person_records_dlq, names.ingest_state}
        specs = [s for s in topic_specs(names, settings.partitions) if s.name in wanted]
        await ensure_topics(settings.bootstrap_servers, specs)
    producer = new_producer(settings)
    await start_producer(producer, settings.bootstrap_servers)
    state = KafkaIngestState(settings.bootstrap_servers, names.ingest_state, producer)
    try:
        await state.start()
        yield (
            state,
            KafkaPersonSink(
                producer, names.person_records, names.person_records_dlq, window=settings.window
            ),
        )
    finally:
        await state.stop()
        await producer.stop()


async def reset_state(settings: IngestSettings) -> None:
    """Forget the last file published (the next file is taken as the first)."""
    producer = new_producer(settings)
    await start_producer(producer, settings.bootstrap_servers)
    state = KafkaIngestState(settings.bootstrap_servers, settings.topics.ingest_state, producer)
    try:
        await state.start()
        await state.reset()
    finally:
        await state.stop()
        await producer.stop()
