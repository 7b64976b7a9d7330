"""Benchmark: parsing a synthetic full CPR extract.

Prints records/s and MB/s of ``parse_extract`` beside a baseline measured in
the same run on the same file (read it and split it into lines, no parsing),
and the ratio of the two times. Each figure is the median of ``--runs`` runs.

The input is a synthetic full extract: per person 001, 002, 003, 008, 010,
012 and 099 records, written with ``format_record``; every CPR number is
invented (valid date and century digit, unique, never a real person's).

    python bench/parse.py                 # 1,000,000 persons, 3 runs
    python bench/parse.py --small         # 2,000 persons, 1 run (run by the tests)
    python bench/parse.py --file x.txt    # keep the input (reused if present)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cprbroker.core.cpr.layouts import format_record
from cprbroker.core.cpr.parser import parse_extract

RECORDS_PER_PERSON = 7
_FIRST = ("Anders", "Birgitte", "Søren", "Åse", "Mette", "Jørgen", "Ænne", "Kasper", "Line")
_LAST = ("Jensen", "Nielsen", "Hansen", "Sørensen", "Møller", "Ærø", "Østergaard", "Åberg")
_ROADS = ("Algade", "Østergade", "Søndervang", "Vestre Allé", "Ågade", "Kærvej")
_MUNICIPALITIES = ("0101", "0147", "0151", "0461", "0751", "0851", "0169")


def _pnrs(count: int) -> Iterator[tuple[str, dt.date, bool]]:
    """``count`` unique CPR numbers with 7th digit 0-3 (born 1930-2006)."""
    day = dt.date(1930, 1, 1)
    per_day = 40
    for index in range(count):
        if index and index % per_day == 0:
            day += dt.timedelta(days=1)
        serial = index % per_day
        male = serial % 2 == 1
        # 7th digit 0-3 -> 1900s; the last digit's parity gives the sex.
        digits = f"{serial // 10}{serial % 10:02d}{1 if male else 2}"
        yield f"{day:%d%m%y}{digits}", day, male


def _person_lines(rng: random.Random, pnr: str, born: dt.date, male: bool) -> list[str]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    road, municipality = rng.choice(_ROADS), rng.choice(_MUNICIPALITIES)
    house = f"{rng.randint(1, 150):03d} "
    moved = f"20{rng.randint(10, 23)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}1200"
    birth = born.isoformat()
    return [
        format_record(
            "001",
            {
                "PNR": pnr,
                "STATUS": "01",
                "STATUSHAENSTART": "000000000000",
                "KOEN": "M" if male else "K",
                "FOED_DT": birth,
                "START_DT-PERSON": birth,
                "STILLING": "Pilot",
            },
        ),
        format_record(
            "002",
            {
                "PNR": pnr,
                "KOMKOD": municipality,
                "VEJKOD": f"{rng.randint(1, 9899):04d}",
                "HUSNR": house,
                "ETAGE": "st",
                "SIDEDOER": "  tv",
                "TILFLYDTO": moved,
                "TILFLYKOMDTO": moved,
                "FRAFLYKOMKOD": rng.choice(_MUNICIPALITIES),
                "FRAFLYKOMDTO": moved,
                "START_MYNKOD-ADRTXT": "0000",
            },
        ),
        format_record(
            "003",
            {
                "PNR": pnr,
                "ADRNVN": f"{last},{first}",
                "STANDARDADR": f"{road} {house.strip()},st. tv",
                "POSTNR": "8000",
                "POSTDISTTXT": "Aarhus C",
                "KOMKOD": municipality,
                "VEJKOD": "0042",
                "HUSNR": house,
                "ETAGE": "st",
                "SIDEDOER": "  tv",
                "VEJADRNVN": road,
            },
        ),
        format_record(
            "008",
            {
                "PNR": pnr,
                "FORNVN": first,
                "EFTERNVN": last,
                "NVNHAENSTART": f"{born:%Y%m%d}1200",
                "ADRNVN": f"{last},{first}",
            },
        ),
        format_record(
            "010",
            {"PNR": pnr, "LANDEKOD": "5100", "HAENSTART-STATSBORGERSKAB": f"{born:%Y%m%d}1200"},
        ),
        format_record(
            "012", {"PNR": pnr, "CIVST": "U", "HAENSTART-CIVILSTAND": f"{born:%Y%m%d}1200"}
        ),
        format_record("099", {"PNR": pnr, "TIMESTAMPU": moved, "HAENDELSE": "A01"}),
    ]


def write_extract(path: Path, persons: int, seed: int = 1) -> None:
    """Write a synthetic full extract of ``persons`` persons to ``path`` (ISO-8859-1, LF)."""
    rng = random.Random(seed)
    with path.open("w", encoding="latin-1", newline="\n") as out:
        out.write(
            format_record(
                "000", {"OPGAVENR": "907001", "PRODDTO": "20240305", "PRODDTOFORRIG": "20240304"}
            )
            + "\n"
        )
        batch: list[str] = []
        for pnr, born, male in _pnrs(persons):
            batch.extend(_person_lines(rng, pnr, born, male))
            if len(batch) >= 70_000:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
        counter = f"{persons * RECORDS_PER_PERSON:08d}"
        out.write(format_record("999", {"SORTFELT-10": "9" * 10, "TAELLER": counter}) + "\n")


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
    parser.add_argument("--file", type=Path, help="input file to keep and reuse")
    args = parser.parse_args(argv)
    persons, runs = (2_000, 1) if args.small else (args.persons, args.runs)
    with tempfile.TemporaryDirectory(prefix="cprbroker-bench-") as scratch:
        path = args.file or Path(scratch) / f"extract-{persons}.txt"
        if not path.exists():
            started = time.perf_counter()
            write_extract(path, persons)
            print(f"wrote {path} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        print(report(measure(path, runs), runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
