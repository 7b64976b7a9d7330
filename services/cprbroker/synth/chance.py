"""Cheap random draws for the generator's hot paths.

``random.Random.choice``/``randrange``/``choices`` check their arguments and
draw bits in Python; generating a million persons calls them tens of millions
of times. These take one ``random()`` each. They are deterministic for a
seeded generator like the originals (but draw differently, so they are not
interchangeable with them for a given seed).
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def below(rng: random.Random, n: int) -> int:
    """An integer in ``[0, n)`` (``n`` > 0)."""
    return int(rng.random() * n)


def between(rng: random.Random, low: int, high: int) -> int:
    """An integer in ``[low, high]``."""
    return low + int(rng.random() * (high - low + 1))


def pick(rng: random.Random, items: Sequence[T]) -> T:
    """One of ``items`` (not empty), uniformly."""
    return items[int(rng.random() * len(items))]


def weighted(rng: random.Random, items: Sequence[T], cumulative: Sequence[float]) -> T:
    """One of ``items`` with the running totals of their weights ``cumulative``."""
    return items[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]
