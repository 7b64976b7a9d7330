"""The SQLite replica of ``cprbroker events``: durable, all-or-nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from cprbroker.adapters.replica_file import STORE_NAME, ReplicaFile
from cprbroker.core.errors import ReplicaStoreError
from cprbroker.core.events.model import Address, PersonStatus, Protection, Snapshot
from cprbroker.core.events.replica import InMemoryReplica
from cprbroker.core.events.sequence import FileMark

DAY1 = FileMark("907001", "2024-03-05", "2024-03-04")
DAY2 = FileMark("907002", "2024-03-06", "2024-03-05")
ALICE = Snapshot(
    pnr="0101611234",
    status=PersonStatus("01"),
    address=Address(municipality="0101", supplementary_lines=("Bagbygningen",)),
    protections=(Protection("0001", "2024-03-04"),),
    children=("0101901234",),
)
BOB = Snapshot(pnr="0202611235", status=PersonStatus("90", "2024-03-03T12:00"))


def test_snapshots_and_the_mark_survive_reopening(tmp_path: Path) -> None:
    with ReplicaFile(tmp_path) as replica:
        assert replica.last_applied() is None
        assert replica.get(ALICE.pnr) is None
        replica.apply(DAY1, {ALICE.pnr: ALICE, BOB.pnr: BOB})
    with ReplicaFile(tmp_path) as replica:
        assert replica.last_applied() == DAY1
        assert replica.get(ALICE.pnr) == ALICE
        assert replica.get(BOB.pnr) == BOB
        assert len(replica) == 2
        replica.apply(DAY2, {BOB.pnr: Snapshot(pnr=BOB.pnr, status=PersonStatus("01"))})
        assert replica.get(BOB.pnr) == Snapshot(pnr=BOB.pnr, status=PersonStatus("01"))
        assert replica.last_applied() == DAY2


class _Unbindable:
    """A key SQLite cannot store, to make the write fail halfway."""


def test_a_failed_write_applies_nothing(tmp_path: Path) -> None:
    with ReplicaFile(tmp_path) as replica:
        replica.apply(DAY1, {ALICE.pnr: ALICE})
        broken: dict[Any, Snapshot] = {BOB.pnr: BOB, _Unbindable(): BOB}
        with pytest.raises(ReplicaStoreError, match="cannot write the replica"):
            replica.apply(DAY2, broken)
        assert replica.last_applied() == DAY1
        assert replica.get(BOB.pnr) is None
        assert len(replica) == 1


def test_a_store_of_another_format_is_refused(tmp_path: Path) -> None:
    ReplicaFile(tmp_path).close()
    with sqlite3.connect(tmp_path / STORE_NAME) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    db.close()
    with pytest.raises(ReplicaStoreError, match="replica format '99'"):
        ReplicaFile(tmp_path)


def test_an_unusable_state_dir_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(ReplicaStoreError, match="cannot open the replica"):
        ReplicaFile(blocker / "state")


def test_a_damaged_snapshot_is_reported_without_the_pnr(tmp_path: Path) -> None:
    with ReplicaFile(tmp_path) as replica:
        replica.apply(DAY1, {ALICE.pnr: ALICE})
    with sqlite3.connect(tmp_path / STORE_NAME) as db:
        db.execute("UPDATE snapshots SET snapshot = '{\"pnr\": 1}'")
    db.close()
    with ReplicaFile(tmp_path) as replica, pytest.raises(ReplicaStoreError) as caught:
        replica.get(ALICE.pnr)
    assert "/pnr" in str(caught.value)
    assert ALICE.pnr not in str(caught.value)


def test_the_in_memory_replica_behaves_the_same() -> None:
    replica = InMemoryReplica()
    assert replica.last_applied() is None
    replica.apply(DAY1, {ALICE.pnr: ALICE})
    assert replica.get(ALICE.pnr) == ALICE
    assert ALICE.pnr in replica
    assert len(replica) == 1
    assert replica.last_applied() == DAY1
