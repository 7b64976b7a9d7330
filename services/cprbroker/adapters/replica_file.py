"""A replica kept in one SQLite file, for ``cprbroker events --state-dir DIR``.

The file ``DIR/replica.sqlite3`` holds the last snapshot of every person (as
the JSON of :func:`~cprbroker.core.events.serial.snapshot_to_dict`) and the
last applied extract's mark. One file is applied in one SQLite transaction,
so a crash or a refused file leaves the replica exactly as it was.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from cprbroker.core.errors import EventFormatError, ReplicaStoreError
from cprbroker.core.events.model import Snapshot
from cprbroker.core.events.sequence import FileMark
from cprbroker.core.events.serial import snapshot_from_dict, snapshot_to_dict

STORE_NAME = "replica.sqlite3"
FORMAT_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (pnr TEXT PRIMARY KEY, snapshot TEXT NOT NULL);
"""


class ReplicaFile:
    """A :class:`~cprbroker.core.events.replica.ReplicaState` in SQLite."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / STORE_NAME
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO meta (key, value) VALUES ('format', ?)", (FORMAT_VERSION,)
                )
            elif row[0] != FORMAT_VERSION:
                raise ReplicaStoreError(
                    f"{self.path}: replica format {row[0]!r}, this version reads {FORMAT_VERSION!r}"
                )
        except (sqlite3.Error, OSError) as exc:
            raise ReplicaStoreError(f"{self.path}: cannot open the replica: {exc}") from exc

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> ReplicaFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def last_applied(self) -> FileMark | None:
        """The last file applied, or None for an empty replica."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'last_applied'").fetchone()
        except sqlite3.Error as exc:
            raise ReplicaStoreError(f"{self.path}: cannot read the replica: {exc}") from exc
        if row is None:
            return None
        data = json.loads(row[0])
        return FileMark(
            task_number=data["task_number"],
            production_date=data["production_date"],
            previous_production_date=data.get("previous_production_date"),
        )

    def get(self, pnr: str) -> Snapshot | None:
        """The last snapshot of ``pnr``, or None if the replica never saw it."""
        try:
            row = self._db.execute(
                "SELECT snapshot FROM snapshots WHERE pnr = ?", (pnr,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise ReplicaStoreError(f"{self.path}: cannot read the replica: {exc}") from exc
        if row is None:
            return None
        try:
            return snapshot_from_dict(json.loads(row[0]))
        except (ValueError, EventFormatError) as exc:
            # The message names the place in the document, never the person.
            raise ReplicaStoreError(f"{self.path}: a stored snapshot is unreadable: {exc}") from exc

    def apply(self, mark: FileMark, snapshots: Mapping[str, Snapshot]) -> None:
        """Store ``snapshots`` and make ``mark`` the last applied file, in one
        transaction."""
        rows = [
            (pnr, json.dumps(snapshot_to_dict(snapshot), ensure_ascii=False, sort_keys=True))
            for pnr, snapshot in snapshots.items()
        ]
        last = json.dumps(
            {
                "task_number": mark.task_number,
                "production_date": mark.production_date,
                "previous_production_date": mark.previous_production_date,
            }
        )
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO snapshots (pnr, snapshot) VALUES (?, ?) "
                    "ON CONFLICT (pnr) DO UPDATE SET snapshot = excluded.snapshot",
                    rows,
                )
                self._db.execute(
                    "INSERT INTO meta (key, value) VALUES ('last_applied', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (last,),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise ReplicaStoreError(f"{self.path}: cannot write the replica: {exc}") from exc

    def __len__(self) -> int:
        try:
            (count,) = self._db.execute("SELECT count(*) FROM snapshots").fetchone()
        except sqlite3.Error as exc:
            raise ReplicaStoreError(f"{self.path}: cannot read the replica: {exc}") from exc
        return int(count)
