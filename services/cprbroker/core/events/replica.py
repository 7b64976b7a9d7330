"""The replica port: the last snapshot of every person seen, and the last
applied extract file.

The processor keeps its replica in a Kafka-backed table; ``cprbroker events``
keeps it in a local file (:mod:`cprbroker.adapters.replica_file`); tests use
:class:`InMemoryReplica`. All of them apply one file's snapshots and its
:class:`FileMark` as one step, so a refused or interrupted file applies nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from cprbroker.core.events.model import Snapshot
from cprbroker.core.events.sequence import FileMark


class ReplicaState(Protocol):
    """Where the replica lives."""

    def last_applied(self) -> FileMark | None:
        """The last file applied, or None for an empty replica."""
        ...

    def get(self, pnr: str) -> Snapshot | None:
        """The last snapshot of ``pnr``, or None if the replica never saw it."""
        ...

    def apply(self, mark: FileMark, snapshots: Mapping[str, Snapshot]) -> None:
        """Store ``snapshots`` (by PNR) and make ``mark`` the last applied
        file, all or nothing."""
        ...


class InMemoryReplica:
    """A :class:`ReplicaState` in a dict, for tests and one-shot runs."""

    def __init__(self) -> None:
        self._snapshots: dict[str, Snapshot] = {}
        self._last: FileMark | None = None

    def last_applied(self) -> FileMark | None:
        """The last file applied, or None for an empty replica."""
        return self._last

    def get(self, pnr: str) -> Snapshot | None:
        """The last snapshot of ``pnr``, or None if the replica never saw it."""
        return self._snapshots.get(pnr)

    def apply(self, mark: FileMark, snapshots: Mapping[str, Snapshot]) -> None:
        """Store ``snapshots`` and make ``mark`` the last applied file."""
        self._snapshots.update(snapshots)
        self._last = mark

    def __len__(self) -> int:
        return len(self._snapshots)

    def __contains__(self, pnr: object) -> bool:
        return pnr in self._snapshots
