"""``cprbroker parse FILE...``: parse CPR extract files and print what they hold.

One JSON object per line on stdout for each person (PNR, file id, records by
type with named, typed fields), and for each 910 error record and 997 receipt.
Refused persons and refused files go to stderr with file, line, record type,
field and value (CPR-number values are not repeated). Exit status: 0 all
clean, 1 some persons refused, 2 a file refused or unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cprbroker.core.cpr.jsonable import person_json, record_json
from cprbroker.core.cpr.parser import parse_extract, parse_records
from cprbroker.core.cpr.records import Extract, RecordSet
from cprbroker.core.errors import ExtractError

EXIT_CLEAN, EXIT_PERSONS_REFUSED, EXIT_FILE_REFUSED = 0, 1, 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``parse`` to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "parse",
        help="parse CPR extract files; one JSON object per person on stdout",
        description=(
            "Parse CPR extract files (ISO-8859-1, fixed width, with or without line breaks) "
            "and print one JSON object per person on stdout. Refused persons and files go "
            "to stderr. Exit 0: clean; 1: some persons refused; 2: a file refused."
        ),
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--fragment",
        action="store_true",
        help="the files are record fragments without 000/999 framing",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Parse every file in ``args.files``; returns the worst exit status."""
    status = EXIT_CLEAN
    for path in args.files:
        status = max(status, _parse_one(path, fragment=args.fragment))
    return status


def _parse_one(path: Path, *, fragment: bool) -> int:
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"{source}: file refused: cannot read it: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FILE_REFUSED
    try:
        result: RecordSet = (
            parse_records(data, source=source) if fragment else parse_extract(data, source=source)
        )
    except ExtractError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FILE_REFUSED
    file_id = result.file_id if isinstance(result, Extract) else None
    out = sys.stdout
    for person in result.persons:
        out.write(json.dumps(person_json(person, file_id=file_id), ensure_ascii=False) + "\n")
    for kind, records in (("error_record", result.error_records), ("receipt", result.receipts)):
        for record in records:
            entry = {"kind": kind, "file_id": file_id, "record_type": record.record_type}
            line = {**entry, "fields": record_json(record)}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    for error in result.rejected:
        print(str(error), file=sys.stderr)
    refused = len(result.rejected_pnrs)
    print(
        f"{source}: {len(result.persons)} persons, {result.record_count} data records, "
        f"{len(result.rejected)} bad records ({refused} persons refused)",
        file=sys.stderr,
    )
    return EXIT_PERSONS_REFUSED if result.rejected else EXIT_CLEAN
