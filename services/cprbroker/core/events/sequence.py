"""Whether an extract file may be applied after the last applied one.

CPR numbers its extracts by production date: each delta's 000 record carries
PRODDTO and PRODDTOFORRIG, the production date of the delta before it. A
delta whose PRODDTOFORRIG is not the last applied PRODDTO means a file is
missing (cpr-domain.md §7.1); the same OPGAVENR and PRODDTO again means the
file was already applied. Ingest and the processor both ask :func:`check_sequence`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FileMark:
    """Where an extract stands in the sequence: its 000 record."""

    task_number: str
    """000 OPGAVENR."""
    production_date: str
    """000 PRODDTO, ``yyyy-MM-dd``."""
    previous_production_date: str | None = None
    """000 PRODDTOFORRIG, ``yyyy-MM-dd``; None when the file has none (zeros)."""


class Verdict(enum.Enum):
    """What to do with a file."""

    APPLY = "apply"
    """Apply it: it follows the last applied file (or is the first)."""
    ALREADY_APPLIED = "already_applied"
    """Change nothing: the same OPGAVENR and PRODDTO were applied."""
    GAP = "gap"
    """Refuse it: PRODDTOFORRIG is not the last applied PRODDTO."""
    OUT_OF_ORDER = "out_of_order"
    """Refuse it: it is older than the last applied file."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on a file and a message saying why (no CPR numbers)."""

    verdict: Verdict
    message: str

    @property
    def applies(self) -> bool:
        """Whether the file's persons should be applied."""
        return self.verdict is Verdict.APPLY

    @property
    def refused(self) -> bool:
        """Whether the file is refused (a gap or an older file)."""
        return self.verdict in (Verdict.GAP, Verdict.OUT_OF_ORDER)


def check_sequence(
    last_applied: FileMark | None,
    extract: FileMark,
    *,
    allow_gap: bool = False,
    full: bool = False,
) -> Decision:
    """Decide whether ``extract`` may be applied after ``last_applied``.

    - the same OPGAVENR and PRODDTO as the last applied file: ALREADY_APPLIED;
    - nothing applied yet, or a full extract (``full``, an initial load, which
      carries a complete picture and so needs no predecessor): APPLY;
    - PRODDTO before the last applied one: OUT_OF_ORDER, even with ``allow_gap``
      (applying it would put older data over newer);
    - PRODDTOFORRIG differs from the last applied PRODDTO: GAP, naming both
      dates, unless ``allow_gap``;
    - otherwise APPLY.
    """
    if last_applied is not None and (
        extract.task_number == last_applied.task_number
        and extract.production_date == last_applied.production_date
    ):
        return Decision(
            Verdict.ALREADY_APPLIED,
            f"already applied: OPGAVENR {extract.task_number} "
            f"PRODDTO {extract.production_date}; nothing changed",
        )
    if last_applied is None:
        return Decision(Verdict.APPLY, "first file applied to this replica")
    if extract.production_date < last_applied.production_date:
        return Decision(
            Verdict.OUT_OF_ORDER,
            f"file refused: PRODDTO {extract.production_date} is older than the last "
            f"applied PRODDTO {last_applied.production_date}",
        )
    if full:
        return Decision(Verdict.APPLY, "full extract")
    if extract.previous_production_date != last_applied.production_date:
        previous = extract.previous_production_date or "(none)"
        message = (
            f"PRODDTOFORRIG {previous} differs from the last applied PRODDTO "
            f"{last_applied.production_date}: a delta is missing"
        )
        if allow_gap:
            return Decision(Verdict.APPLY, f"gap allowed: {message}")
        return Decision(Verdict.GAP, f"file refused: {message}")
    return Decision(Verdict.APPLY, "follows the last applied file")
