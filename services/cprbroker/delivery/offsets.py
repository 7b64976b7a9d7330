"""Which offset of a partition may be committed while its records are handled
out of order.

Records of one partition are handed out in offset order but finish in any
order (a slow endpoint's delivery finishes long after a fast one's behind it).
The committed offset may only move up to the lowest offset not finished yet:
everything below it is done, so a restart from there re-runs only unfinished
work (and perhaps some finished work, which at-least-once allows).
"""

from __future__ import annotations

from collections import deque


class OffsetTracker:
    """The offsets of one partition taken for handling, and which are finished."""

    def __init__(self) -> None:
        self._order: deque[int] = deque()
        self._finished: set[int] = set()
        self._next: int | None = None

    def take(self, offset: int) -> None:
        """Note that the record at ``offset`` was fetched; offsets must ascend."""
        if self._next is not None and offset < self._next:
            raise ValueError(f"offset {offset} taken after {self._next - 1}")
        self._order.append(offset)
        self._next = offset + 1

    def finish(self, offset: int) -> None:
        """Note that the record at ``offset`` is finished."""
        self._finished.add(offset)

    @property
    def pending(self) -> int:
        """Records taken and not finished yet."""
        return len(self._order) - sum(1 for offset in self._order if offset in self._finished)

    def committable(self) -> int | None:
        """The offset to commit: the lowest unfinished one, or one past the last
        taken when all are finished; ``None`` before anything was taken."""
        order, finished = self._order, self._finished
        while order and order[0] in finished:
            finished.discard(order.popleft())
        if order:
            return order[0]
        return self._next
