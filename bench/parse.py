"""Benchmark: parsing a synthetic full CPR extract.

Prints records/s and MB/s of ``parse_extract`` beside a baseline measured in
the same run on the same file (read it and split it into lines, no parsing),
and the ratio of the two times. Each figure is the median of ``--runs`` runs.

The input is a synthetic full extract from ``cprbroker synth`` (households,
about ten records per person of the types 001-016, every CPR number invented).

    python bench/parse.py                   # 1,000,000 persons, 3 runs
    python bench/parse.py --small           # 2,000 persons, 1 run (run by the tests)
    python bench/parse.py --keep DIR        # keep the input in DIR (reused if present)
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cprbroker.core.cpr.parser import parse_extract
from cprbroker.synth.writer import SynthSettings, generate


def write_extract(folder: Path, persons: int) -> Path:
    """Write a synthetic full extract of ``persons`` persons into ``folder``
    with the project's generator; returns its path."""
    settings = SynthSettings(persons=persons, days=0, seed="bench-parse", out=folder)
    [path] = generate(settings).files
    return path


@dataclass(frozen=True)
class Timing:
    """Median wall-clock and CPU seconds of one action over the runs."""

    wall: float
    cpu: float

    @classmethod
    def median_of(cls, samples: list[tuple[float, float]]) -> Timing:
        return cls(
            wall=statistics.median(w for w, _ in samples),
            cpu=statistics.median(c for _, c in samples),
        )


@dataclass(frozen=True)
class Figures:
    """The baseline's and the parser's timings, and what was parsed."""

    persons: int
    records: int
    size_bytes: int
    baseline: Timing
    parse: Timing

    def line(self, label: str, timing: Timing) -> str:
        """One printed line: records/s and MB/s by the wall clock and by CPU time."""
        mb = self.size_bytes / 1e6
        rate = self.records / timing.wall
        return (
            f"{label:<31}{rate:12,.0f} records/s {mb / timing.wall:8,.1f} MB/s"
            f" ({timing.wall:.3f} s wall; CPU time: {self.records / timing.cpu:,.0f} records/s,"
            f" {timing.cpu:.3f} s)"
        )


def _timed(action: Callable[[], None]) -> tuple[float, float]:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(path: Path, runs: int) -> Figures:
    """Time the baseline and the parser on ``path``, ``runs`` times each."""

    def baseline() -> None:
        data = path.read_bytes()
        lines = data.decode("latin-1").split("\n")
        if not lines:
            raise SystemExit("empty input")

    persons = records = 0

    def parse() -> None:
        nonlocal persons, records
        extract = parse_extract(path.read_bytes(), source=path.name)
        if extract.rejected:
            raise SystemExit(f"synthetic input rejected: {extract.rejected[0]}")
        persons, records = len(extract.persons), extract.record_count

    baseline_samples, parse_samples = [], []
    for _ in range(runs):
        baseline_samples.append(_timed(baseline))
        parse_samples.append(_timed(parse))
    return Figures(
        persons=persons,
        records=records + 2,
        size_bytes=path.stat().st_size,
        baseline=Timing.median_of(baseline_samples),
        parse=Timing.median_of(parse_samples),
    )


def report(figures: Figures, runs: int) -> str:
    """The figures as printed. CPU time is shown beside wall-clock time
    because on a shared machine the wall clock also counts waiting for a core."""
    mb = figures.size_bytes / 1e6
    return "\n".join(
        [
            f"input: {figures.persons:,} persons, {figures.records:,} records, {mb:,.1f} MB; "
            f"median of {runs} run(s)",
            figures.line("baseline (read + split lines):", figures.baseline),
            figures.line("parse_extract:", figures.parse),
            f"ratio parse/baseline time: {figures.parse.wall / figures.baseline.wall:.1f}x wall, "
            f"{figures.parse.cpu / figures.baseline.cpu:.1f}x CPU",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="2,000 persons, one run")
    parser.add_argument("--keep", type=Path, help="folder to keep the input in and reuse it from")
    args = parser.parse_args(argv)
    persons, runs = (2_000, 1) if args.small else (args.persons, args.runs)
    with tempfile.TemporaryDirectory(prefix="cprbroker-bench-") as scratch:
        folder = (args.keep or Path(scratch)) / f"persons-{persons}"
        existing = sorted(folder.glob("D*.L*")) if folder.is_dir() else []
        if existing:
            path = existing[0]
        else:
            started = time.perf_counter()
            path = write_extract(folder, persons)
            print(f"wrote {path} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        print(report(measure(path, runs), runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
