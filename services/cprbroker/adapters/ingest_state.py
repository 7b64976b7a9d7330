"""Ingest state: the last extract file whose persons are all on
``cpr.person-records``, kept in the compacted topic ``cpr.ingest-state``.

One key, ``extract-sequence``, holds the file mark (OPGAVENR, PRODDTO,
PRODDTOFORRIG) of the last file ingest published completely, as JSON. Ingest
writes it only after every person of the file has been acknowledged by Kafka,
so a crash mid-file leaves the previous mark and the same file is published
again on the next run (the processor then derives nothing twice: see
:mod:`cprbroker.processor.batch`).

:class:`InMemoryIngestState` is the fake for service tests.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer

from cprbroker.adapters.state_store import KafkaStateLog
from cprbroker.core.errors import EventFormatError
from cprbroker.core.events.sequence import FileMark

SEQUENCE_KEY = b"extract-sequence"


class IngestState(Protocol):
    """Where ingest remembers the last file it published completely."""

    def last_applied(self) -> FileMark | None:
        """The mark of the last file published completely, or None."""
        ...

    async def record(self, mark: FileMark, *, file_id: str, persons: int, full: bool) -> None:
        """Remember ``mark`` as the last file published completely."""
        ...

    async def reset(self) -> None:
        """Forget the last file (the next file is taken as the first)."""
        ...


def encode_mark(mark: FileMark, *, file_id: str, persons: int, full: bool) -> bytes:
    """The state value for ``mark`` (with what an operator wants to see)."""
    document = {
        "task_number": mark.task_number,
        "production_date": mark.production_date,
        "previous_production_date": mark.previous_production_date,
        "file_id": file_id,
        "persons": persons,
        "full": full,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return json.dumps(document).encode()


def decode_mark(value: bytes) -> FileMark:
    """The file mark in a state value; EventFormatError names the bad member."""
    try:
        document: Any = json.loads(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventFormatError(f"/: ingest state is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise EventFormatError("/: ingest state is not an object")
    for name in ("task_number", "production_date"):
        if not isinstance(document.get(name), str):
            raise EventFormatError(f"/{name}: expected a string")
    previous = document.get("previous_production_date")
    if previous is not None and not isinstance(previous, str):
        raise EventFormatError("/previous_production_date: expected a string or null")
    return FileMark(document["task_number"], document["production_date"], previous)


class KafkaIngestState:
    """:class:`IngestState` in a compacted topic, with read-your-writes."""

    def __init__(self, bootstrap_servers: str, topic: str, producer: AIOKafkaProducer) -> None:
        self._last: FileMark | None = None
        self._log = KafkaStateLog(bootstrap_servers, topic, self._apply, producer)

    def _apply(self, key: bytes, value: bytes | None) -> None:
        if key == SEQUENCE_KEY:
            self._last = None if value is None else decode_mark(value)

    async def start(self) -> None:
        """Read the topic up to its end."""
        await self._log.start()

    async def stop(self) -> None:
        """Stop following the topic."""
        await self._log.stop()

    def last_applied(self) -> FileMark | None:
        """The mark of the last file published completely, or None."""
        return self._last

    async def record(self, mark: FileMark, *, file_id: str, persons: int, full: bool) -> None:
        """Write ``mark`` and wait until this process has read it back."""
        value = encode_mark(mark, file_id=file_id, persons=persons, full=full)
        await self._log.write([(SEQUENCE_KEY, value)])

    async def reset(self) -> None:
        """Write a tombstone for the mark."""
        await self._log.write([(SEQUENCE_KEY, None)])


class InMemoryIngestState:
    """:class:`IngestState` in memory (tests)."""

    def __init__(self, last: FileMark | None = None) -> None:
        self._last = last
        self.history: list[FileMark] = []

    def last_applied(self) -> FileMark | None:
        """The mark of the last file published completely, or None."""
        return self._last

    async def record(self, mark: FileMark, *, file_id: str, persons: int, full: bool) -> None:
        """Remember ``mark``."""
        self._last = mark
        self.history.append(mark)

    async def reset(self) -> None:
        """Forget the mark."""
        self._last = None
