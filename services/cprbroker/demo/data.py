"""The demo's data: a synthetic series (``cprbroker synth``), generated in a
background thread while Kafka starts, then dropped into the inbox the way an
operator's transfer should: under a ``.part`` name, renamed when complete."""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from cprbroker.ingest.inbox import InboxSettings
from cprbroker.synth.writer import SynthReport, SynthSettings, file_name, generate


@dataclass(frozen=True, slots=True)
class DemoSeries:
    """The files of a generated series and the events its deltas must give."""

    full: Path
    deltas: tuple[Path, ...]
    events_expected: int


class SeriesInBackground:
    """Generates a series in a daemon thread; :meth:`result` waits for it."""

    def __init__(self, settings: SynthSettings) -> None:
        self._settings = settings
        self._report: SynthReport | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._generate, name="demo-synth", daemon=True)

    def start(self) -> SeriesInBackground:
        """Start generating."""
        self._thread.start()
        return self

    def _generate(self) -> None:
        try:
            self._report = generate(self._settings)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread by result()
            self._failure = exc

    def result(self) -> DemoSeries:
        """Wait for the series; raise what generating it raised."""
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        report = self._report
        if report is None:
            raise RuntimeError("the synthetic series was not generated")
        full = self._settings.out / file_name(self._settings.start, self._settings.task_number)
        deltas = tuple(path for path in report.files if path != full)
        return DemoSeries(full, deltas, sum(report.truth.values()))


def drop_into_inbox(series: DemoSeries, inbox: InboxSettings) -> list[Path]:
    """Copy the full extract into ``full/`` and the deltas into the inbox, each
    under ``<name>.part`` first and renamed when complete. Returns the paths."""
    inbox.create()
    dropped = [_drop(series.full, inbox.full)]
    dropped += [_drop(delta, inbox.root) for delta in series.deltas]
    return dropped


def _drop(source: Path, folder: Path) -> Path:
    target = folder / source.name
    partial = folder / f"{source.name}.part"
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return target
