"""``cprbroker events [--state-dir DIR] [--allow-gap] [--full] FILE...``: derive
business events from CPR extract files without Kafka.

Each FILE is parsed, checked against the last applied file (PRODDTOFORRIG must
be the last applied PRODDTO), applied to the replica and its events written to
stdout, one JSON object per line. With --state-dir the replica lives in
DIR/replica.sqlite3 between runs; without it, it lives only for this run.

Exit status: 0 every file applied cleanly (or was already applied), 1 some
persons were rejected (each named on stderr with file and line; the rest of
the file applied), 2 a file was refused (framing error, gap, older file,
unreadable) and applied nothing; later files are then not read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TextIO

from cprbroker.adapters.event_catalogue import load_catalogue
from cprbroker.adapters.replica_file import ReplicaFile
from cprbroker.core.cpr.parser import parse_extract
from cprbroker.core.errors import CprBrokerError, ExtractError
from cprbroker.core.events.apply import apply_extract
from cprbroker.core.events.catalogue import Catalogue
from cprbroker.core.events.replica import InMemoryReplica, ReplicaState
from cprbroker.core.events.sequence import Verdict
from cprbroker.core.events.serial import event_to_dict

CATALOGUE_ENV = "CPRBROKER_EVENT_CATALOGUE"

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_REFUSED = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``events`` to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "events",
        help="derive business events from CPR extract files (no Kafka)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="CPR extract files")
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="keep the replica in DIR between runs (default: only for this run)",
    )
    parser.add_argument(
        "--allow-gap",
        action="store_true",
        help="apply a delta even if its PRODDTOFORRIG is not the last applied PRODDTO",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="the files are full extracts (initial load): fill the replica, emit no events",
    )
    parser.add_argument(
        "--catalogue",
        type=Path,
        metavar="FILE",
        default=os.environ.get(CATALOGUE_ENV) or None,
        help=f"event catalogue TOML file (default: ${CATALOGUE_ENV} or the built-in one)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        catalogue = load_catalogue(Path(args.catalogue) if args.catalogue else None)
    except CprBrokerError as exc:
        print(f"cprbroker events: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if args.state_dir is None:
        return run_files(args.files, InMemoryReplica(), catalogue, args=args)
    try:
        replica = ReplicaFile(args.state_dir)
    except CprBrokerError as exc:
        print(f"cprbroker events: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    with replica:
        return run_files(args.files, replica, catalogue, args=args)


def run_files(
    files: list[Path],
    replica: ReplicaState,
    catalogue: Catalogue,
    *,
    args: argparse.Namespace,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Apply ``files`` in order to ``replica``; write events to ``out`` and
    diagnostics to ``err``. Returns the exit status (module docstring)."""
    out = out or sys.stdout
    err = err or sys.stderr
    status = EXIT_OK
    for path in files:
        try:
            extract = parse_extract(path.read_bytes(), source=str(path))
        except OSError as exc:
            print(f"{path}: file refused: cannot read it: {exc.strerror}", file=err)
            return EXIT_REFUSED
        except ExtractError as exc:
            print(str(exc), file=err)
            return EXIT_REFUSED
        outcome = apply_extract(
            extract, replica, catalogue, allow_gap=args.allow_gap, full=args.full
        )
        decision = outcome.decision
        if decision.refused:
            print(f"{path}: {decision.message}", file=err)
            if decision.verdict is Verdict.GAP:
                print(f"{path}: use --allow-gap to apply it anyway", file=err)
            return EXIT_REFUSED
        if decision.verdict is Verdict.ALREADY_APPLIED:
            print(f"{path}: {decision.message}", file=err)
            continue
        for event in outcome.events:
            out.write(json.dumps(event_to_dict(event), ensure_ascii=False) + "\n")
        out.flush()
        for error in outcome.rejected:
            print(f"{error}; person rejected", file=err)
        if outcome.rejected:
            status = EXIT_REJECTED
        print(
            f"{path}: applied ({decision.message}): {outcome.persons_applied} persons, "
            f"{len(outcome.rejected)} rejected records, {len(outcome.events)} events",
            file=err,
        )
    return status
