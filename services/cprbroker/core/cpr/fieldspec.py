"""The vocabulary of the record layouts: what kind of value a field holds and
where it stands in its record."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FieldKind(enum.Enum):
    """How a field's characters are read (cpr-domain.md §2.4, "Dates")."""

    TEXT = "text"
    """Free text, ISO-8859-1; typed as the text without trailing spaces."""
    FILLER = "filler"
    """Characters whose meaning is not documented; kept as text."""
    CODE = "code"
    """A numeric code (municipality, road, country...); digits kept as a string
    so leading zeros survive. Blank = none."""
    NUMBER = "number"
    """A count (the 999 counter); typed as ``int``."""
    DATE = "date"
    """``yyyy-MM-dd``; blank = none; a zero month or day = partly unknown."""
    COMPACT_DATE = "compact_date"
    """``yyyyMMdd`` (the 000 production dates); ``00000000`` or blank = none."""
    TIMESTAMP = "timestamp"
    """``yyyyMMddHHmm``; ``000000000000`` or blank = none; partly unknown allowed."""
    UNCERTAINTY = "uncertainty"
    """A date-uncertainty marker (*_UMRK): blank = certain, ``*`` = uncertain."""
    NAME_MARKER = "name_marker"
    """A name marker (*_MRK): ``+`` abbreviated, ``*`` unreportable, ``=`` undocumented."""
    PNR = "pnr"
    """A CPR number, 10 digits; blank (or all zeros) = none for relation fields."""
    STATUS = "status"
    """001 STATUS, the person's register status (two digits)."""
    SEX = "sex"
    """001 KOEN: M or K."""
    CIVIL_STATUS = "civil_status"
    """012/029 CIVST: one letter."""
    PROTECTION_TYPE = "protection_type"
    """004 BESKYTTYPE: four digits."""
    DERIVED_MARK = "derived_mark"
    """099 AFLEDTMRK: two characters; blank = the event's main person."""
    CORRECTION_MARKER = "correction_marker"
    """ANNKOR of historic records: blank, K, A or Æ."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a fixed-width record; ``start`` is 1-based."""

    name: str
    start: int
    length: int
    kind: FieldKind

    @property
    def end(self) -> int:
        """1-based position of the field's last character."""
        return self.start + self.length - 1

    @property
    def slice(self) -> slice:
        """The 0-based slice of the field in the record text."""
        return slice(self.start - 1, self.start - 1 + self.length)
