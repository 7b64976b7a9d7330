"""``cprbroker synth``: write a synthetic CPR population and its daily deltas.

A full extract of ``--persons`` invented persons (households, valid CPR
numbers, real municipality codes) and ``--days`` delta files, each with the
ground-truth business events beside it. The same options give byte-identical
files. A summary goes to stdout at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from cprbroker.synth.writer import SynthReport, SynthSettings, generate

EXIT_OK, EXIT_FAILED = 0, 1


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _task_number(text: str) -> str:
    if len(text) != 6 or not text.isdigit():
        raise argparse.ArgumentTypeError(f"an OPGAVENR is 6 digits, not {text!r}")
    return text


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``synth`` to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic CPR population (full extract) and daily delta files",
        description=(
            "Write a full extract of N synthetic persons and D daily delta files in the CPR "
            "extract format (ISO-8859-1, LF, framed by 000/999). Files are named "
            "D<YYMMDD>.L<OPGAVENR> after their production date (PRODDTO): the full extract "
            "has the start date, the deltas the following weekdays. Beside each delta, "
            "<file>.truth.jsonl holds the business events a correct deriver must produce "
            "(one JSON object per line: pnr, type, cpr_event_code, derived_mark, "
            "municipality_before, municipality_after). The same options give byte-identical "
            "files. Every person and CPR number is invented."
        ),
    )
    parser.add_argument("--persons", type=_positive, required=True, help="population size")
    parser.add_argument("--days", type=_not_negative, default=5, help="delta files (default 5)")
    parser.add_argument("--seed", default="1", help="seed; same seed, same files (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="output directory (created)")
    parser.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        default=dt.date(2024, 3, 4),
        help="production date of the full extract, YYYY-MM-DD (default 2024-03-04)",
    )
    parser.add_argument(
        "--opgavenr",
        type=_task_number,
        default="907001",
        help="the 000 record's OPGAVENR, also in the file names (default 907001)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Generate and write the series; print the summary."""
    settings = SynthSettings(
        persons=args.persons,
        days=args.days,
        seed=str(args.seed),
        out=args.out,
        start=args.start,
        task_number=args.opgavenr,
    )
    started = time.monotonic()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"{message} elapsed_s={time.monotonic() - started:.1f}", file=sys.stderr)

    try:
        report = generate(settings, progress)
    except OSError as exc:
        print(f"synth: cannot write to {settings.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    _summary(report, settings, time.monotonic() - started)
    return EXIT_OK


def _summary(report: SynthReport, settings: SynthSettings, seconds: float) -> None:
    print(
        f"wrote {len(report.files)} files to {settings.out}: 1 full extract of "
        f"{settings.persons} persons and {len(report.files) - 1} deltas; "
        f"{report.data_records} data records in {seconds:.1f} s"
    )
    print(f"changed persons in deltas: {report.changed_persons}")
    print("changes by kind:")
    for name, count in sorted(report.changes.items()):
        print(f"  {name:32} {count:8d}")
    print("expected business events by type:")
    for name, count in sorted(report.truth.items()):
        print(f"  {name:40} {count:8d}")
    print(f"  {'total':40} {sum(report.truth.values()):8d}")
