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
class Figures:
    """Median seconds of the baseline and the parse, and what was parsed."""

    persons: int
    records: int
    size_bytes: int
    baseline_seconds: float
    parse_seconds: float

    @property
    def records_per_second(self) -> float:
        return self.records / self.parse_seconds

    @property
    def baseline_records_per_second(self) -> float:
        return self.records / self.baseline_seconds

    @property
    def ratio(self) -> float:
        """How many times longer parsing takes than reading and splitting."""
        return self.parse_seconds / self.baseline_seconds


def _timed(action: Callable[[], None]) -> float:
    gc.collect()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


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

    baseline_times, parse_times = [], []
    for _ in range(runs):
        baseline_times.append(_timed(baseline))
        parse_times.append(_timed(parse))
    return Figures(
        persons=persons,
        records=records + 2,
        size_bytes=path.stat().st_size,
        baseline_seconds=statistics.median(baseline_times),
        parse_seconds=statistics.median(parse_times),
    )


def report(figures: Figures, runs: int) -> str:
    """The figures as printed."""
    mb = figures.size_bytes / 1e6
    return "\n".join(
        [
            f"input: {figures.persons:,} persons, {figures.records:,} records, {mb:,.1f} MB; "
            f"median of {runs} run(s)",
            f"baseline (read + split lines): {figures.baseline_records_per_second:12,.0f} "
            f"records/s {mb / figures.baseline_seconds:8,.1f} MB/s "
            f"({figures.baseline_seconds:.3f} s)",
            f"parse_extract:                 {figures.records_per_second:12,.0f} "
            f"records/s {mb / figures.parse_seconds:8,.1f} MB/s ({figures.parse_seconds:.3f} s)",
            f"ratio parse/baseline time: {figures.ratio:.1f}x",
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
