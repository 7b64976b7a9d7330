"""Writing a synthetic series: one full extract and a delta file per
production day, each delta with its ground truth beside it. The only module
of :mod:`cprbroker.synth` that touches files.

File naming (as on Serviceplatformen's SFTP, cpr-domain.md §1.4):
``D<YYMMDD>.L<OPGAVENR>`` with the production date, e.g. ``D240304.L907001``
for the full extract and ``D240305.L907001`` for the first delta; the ground
truth of a delta is ``<delta file>.truth.jsonl``. Files are ISO-8859-1 with LF
line ends, framed by 000 and 999. Production dates are weekdays after the
start date.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from cprbroker.synth.households import found_population
from cprbroker.synth.life import DayOutput, Schedule, live_day
from cprbroker.synth.lines import RecordFormatter
from cprbroker.synth.population import Population
from cprbroker.synth.records import Record, end_record, person_records, start_record

_CHUNK = 20_000
_TRAILING_003_SHARE = 1 / 3
"""Share of files that put every 003 record at the end, as in CPR Broker's
sample file: persons are not always contiguous in a real extract."""


@dataclass(frozen=True, slots=True)
class SynthSettings:
    """What to generate and where."""

    persons: int
    days: int
    seed: str
    out: Path
    start: dt.date = dt.date(2024, 3, 4)
    task_number: str = "907001"


@dataclass(slots=True)
class SynthReport:
    """What was written."""

    files: list[Path] = field(default_factory=list)
    data_records: int = 0
    changed_persons: int = 0
    changes: collections.Counter[str] = field(default_factory=collections.Counter)
    truth: collections.Counter[str] = field(default_factory=collections.Counter)


def production_dates(start: dt.date, days: int) -> list[dt.date]:
    """The ``days`` weekdays after ``start``."""
    dates: list[dt.date] = []
    day = start
    while len(dates) < days:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            dates.append(day)
    return dates


def file_name(production_date: dt.date, task_number: str) -> str:
    """``D<YYMMDD>.L<OPGAVENR>``."""
    return f"D{production_date:%y%m%d}.L{task_number}"


class _ExtractFile:
    """One extract file being written: 000 first, 999 with the count last."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._format = RecordFormatter().line
        self._pending: list[str] = []
        self.data_records = 0

    def frame_start(self, task_number: str, production: dt.date, previous: dt.date) -> None:
        self._frame(start_record(task_number, f"{production:%Y%m%d}", f"{previous:%Y%m%d}"))

    def records(self, records: Iterable[Record], skip: str = "", only: str = "") -> None:
        line = self._format
        pending = self._pending
        for kind, values in records:
            if kind == skip or (only and kind != only):
                continue
            pending.append(line(kind, values))
            self.data_records += 1
        if len(pending) >= _CHUNK:
            self.flush()

    def frame_end(self) -> None:
        self._frame(end_record(self.data_records))
        self.flush()

    def flush(self) -> None:
        if self._pending:
            self._stream.write("\n".join(self._pending))
            self._stream.write("\n")
            self._pending.clear()

    def _frame(self, record: Record) -> None:
        self._pending.append(self._format(*record))


def _open(path: Path) -> TextIO:
    return path.open("w", encoding="iso-8859-1", newline="\n", buffering=1 << 20)


def write_full_extract(
    path: Path,
    population: Population,
    settings: SynthSettings,
    *,
    trailing_003: bool,
) -> int:
    """Write every person of ``population`` to ``path``; returns the number
    of data records. PRODDTOFORRIG is the day before the start date."""
    with _open(path) as stream:
        out = _ExtractFile(stream)
        out.frame_start(settings.task_number, settings.start, settings.start - dt.timedelta(days=1))
        persons = population.persons
        skip = "003" if trailing_003 else ""
        for pnr in population.order:
            out.records(person_records(persons[pnr]), skip=skip)
        if trailing_003:
            for pnr in population.order:
                out.records(person_records(persons[pnr]), only="003")
        out.frame_end()
        return out.data_records


def write_delta(
    path: Path,
    day: DayOutput,
    previous: dt.date,
    settings: SynthSettings,
    *,
    trailing_003: bool,
) -> int:
    """Write one delta file and its ground truth; returns the data records."""
    with _open(path) as stream:
        out = _ExtractFile(stream)
        out.frame_start(settings.task_number, day.production_date, previous)
        skip = "003" if trailing_003 else ""
        for _, records in day.persons:
            out.records(records, skip=skip)
        if trailing_003:
            for _, records in day.persons:
                out.records(records, only="003")
        out.frame_end()
    truth_path = path.with_name(path.name + ".truth.jsonl")
    with truth_path.open("w", encoding="utf-8", newline="\n") as truth:
        for event in day.truth:
            truth.write(json.dumps(event, ensure_ascii=False, sort_keys=True))
            truth.write("\n")
    return out.data_records


def generate(settings: SynthSettings, progress: Callable[[str], None] | None = None) -> SynthReport:
    """Generate the population and its days and write every file to
    ``settings.out`` (created if missing). The same settings always give
    byte-identical files."""
    say = progress or (lambda _message: None)
    settings.out.mkdir(parents=True, exist_ok=True)
    # Seeded PRNGs are the point: reproducible synthetic data, no secrets.
    rng = random.Random(f"cprbroker-synth/{settings.seed}")  # noqa: S311
    population = found_population(rng, settings.persons, settings.start)
    say(f"synth.population persons={len(population)}")
    report = SynthReport()
    full = settings.out / file_name(settings.start, settings.task_number)
    layout_rng = random.Random(f"cprbroker-synth/{settings.seed}/layout")  # noqa: S311
    report.data_records += write_full_extract(
        full, population, settings,
        trailing_003=layout_rng.random() < _TRAILING_003_SHARE,
    )  # fmt: skip
    report.files.append(full)
    say(f"synth.file_written file={full.name}")
    schedule = Schedule(settings.persons)
    previous = settings.start
    for index, production in enumerate(production_dates(settings.start, settings.days)):
        covered = [previous + dt.timedelta(days=i) for i in range((production - previous).days)]
        day_rng = random.Random(f"cprbroker-synth/{settings.seed}/day/{index}")  # noqa: S311
        day = live_day(day_rng, population, schedule, production, covered)
        path = settings.out / file_name(production, settings.task_number)
        report.data_records += write_delta(
            path, day, previous, settings,
            trailing_003=layout_rng.random() < _TRAILING_003_SHARE,
        )  # fmt: skip
        report.files.append(path)
        report.changed_persons += len(day.persons)
        report.changes.update(day.changes)
        report.truth.update(str(event["type"]) for event in day.truth)
        say(f"synth.file_written file={path.name} persons={len(day.persons)}")
        previous = production
    return report


__all__ = ["SynthReport", "SynthSettings", "file_name", "generate", "production_dates"]
