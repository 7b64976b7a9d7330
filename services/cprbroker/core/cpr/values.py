"""Reading one field's characters as a typed value (cpr-domain.md §2.4).

Per :class:`~cprbroker.core.cpr.fieldspec.FieldKind` this module gives

- a regular-expression fragment that accepts exactly the well-formed raw
  values of a field of that length (the parser joins them into one pattern per
  record layout, so checking a whole record is one C-level match), and
- a converter from an accepted raw value to its typed value, which therefore
  cannot fail.

Typed values: TEXT -> ``str`` without trailing spaces; CODE -> the digits as
``str`` (leading zeros kept) or ``None`` when blank; NUMBER -> ``int``; DATE,
COMPACT_DATE -> ``datetime.date``; TIMESTAMP -> naive ``datetime.datetime`` in
CPR's local time (Danish time; the extract carries no offset); markers ->
the marker character or ``None`` when blank; PNR -> ``str`` or ``None``; code
lists -> their enum (:mod:`cprbroker.core.cpr.codes`) or ``None`` when blank.

Dates CPR only partly knows (a zero month or day, e.g. ``196100001299``; or a
timestamp whose time of day is out of range) become a :class:`PartialDate`
that keeps the raw value and the parts that are known.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from cprbroker.core.cpr.codes import CODE_LISTS
from cprbroker.core.cpr.fieldspec import FieldKind


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date CPR does not fully know; ``month``/``day`` are ``None`` when unknown.

    ``raw`` is the field exactly as it stood in the record.
    """

    raw: str
    year: int
    month: int | None
    day: int | None

    known = False
    """Always false: lets callers tell a PartialDate from a date without isinstance."""

    def isoformat(self) -> str:
        """``yyyy``, ``yyyy-MM`` or ``yyyy-MM-dd``: as much as is known."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
            if self.day is not None:
                text += f"-{self.day:02d}"
        return text


Value = str | int | dt.date | dt.datetime | PartialDate | None
"""Any typed field value (enums are ``str`` subclasses)."""

# --- patterns -----------------------------------------------------------------
#
# Python's regex engine tries alternatives in order and the records are fixed
# width, so the common shape goes first and the rare ones (days 29-31, leap
# days) after it: a typical date costs about as much as a bare digit check.

# Printable ISO-8859-1: C0 and C1 control characters (and DEL) are refused, so
# a UTF-8 file read as ISO-8859-1 (which puts C1 bytes into text) shows up.
PRINTABLE = "[ -~\u00a0-\u00ff]"
ANY = "(?s:.)"
"""Any character; used for text when the whole input is known to be printable."""

_YEAR = "[1-9][0-9]{3}"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
_MONTH = "(?:0[1-9]|1[0-2])"


def _calendar_date(sep: str, suffix: str = "") -> list[str]:
    """Alternatives for a real calendar date ``yyyy{sep}MM{sep}dd`` (leap years
    included), each followed by ``suffix``. Kept flat: the engine skips an
    alternative cheaply when its first character cannot match."""
    return [
        f"{_YEAR}{sep}{_MONTH}{sep}(?:0[1-9]|1[0-9]|2[0-8]){suffix}",
        f"{_YEAR}{sep}(?:0[13-9]|1[0-2]){sep}(?:29|30){suffix}",
        f"{_YEAR}{sep}(?:0[13578]|1[02]){sep}31{suffix}",
        f"{_LEAP_YEAR}{sep}02{sep}29{suffix}",
    ]


def _partial_date(sep: str, suffix: str = "") -> list[str]:
    """Month unknown (and then day unknown too), or day unknown."""
    return [f"[0-9]{{4}}{sep}00{sep}00{suffix}", f"{_YEAR}{sep}{_MONTH}{sep}00{suffix}"]


def _alternatives(*options: str) -> str:
    return "(?:" + "|".join(options) + ")"


# Order matters for speed, not for what is accepted: the common shapes (an
# ordinary date, blank, all zeros) come before the rare ones (days 29-31, leap
# days, partly unknown dates).
_DATE = _alternatives(
    *_calendar_date("-")[:1], " {10}", *_calendar_date("-")[1:], *_partial_date("-"), "0000-00-00"
)
_COMPACT_DATE = _alternatives(*_calendar_date(""), "0{8}", " {8}")
# Any four digits of time: an out-of-range time of day means "time unknown".
_TIME = "[0-9]{4}"
_TIMESTAMP = _alternatives(
    "0{12}",
    *_calendar_date("", _TIME)[:1],
    " {12}",
    *_calendar_date("", _TIME)[1:],
    *_partial_date("", _TIME),
)


def _choice(values: list[str], width: int) -> str:
    # Blank last: the filled-in codes are the common case.
    options = [*sorted(set(values)), " " * width]
    if width == 1:
        return "[" + "".join(re.escape(option) for option in options) + "]"
    return _alternatives(*options)


def pattern(kind: FieldKind, length: int, *, text: str = PRINTABLE) -> str:
    """The regular expression (no anchors, no groups) accepting a well-formed
    raw value of a ``length``-character field of ``kind``.

    ``text`` is the pattern of one text character: :data:`PRINTABLE`, or
    :data:`ANY` when the caller has already checked the whole input.
    """
    if kind in (FieldKind.TEXT, FieldKind.FILLER, FieldKind.UNCERTAINTY, FieldKind.NAME_MARKER):
        return f"{text}{{{length}}}"
    if kind is FieldKind.CODE:
        return f"(?:[0-9]{{{length}}}| {{{length}}})"
    if kind is FieldKind.NUMBER:
        return f"[0-9]{{{length}}}"
    if kind is FieldKind.PNR:
        return f"(?:[0-9]{{{length}}}| {{{length}}})"
    if kind is FieldKind.DATE:
        return _DATE
    if kind is FieldKind.COMPACT_DATE:
        return _COMPACT_DATE
    if kind is FieldKind.TIMESTAMP:
        return _TIMESTAMP
    code_list = CODE_LISTS[kind.value]
    return _choice([member.value for member in code_list], length)


def problem(kind: FieldKind, raw: str) -> str:
    """Why ``raw`` is not a well-formed value of ``kind`` (for error messages)."""
    bad = [c for c in raw if not (" " <= c <= "~" or "\u00a0" <= c <= "\u00ff")]
    if bad:
        return (
            f"control character U+{ord(bad[0]):04X}, not ISO-8859-1 text "
            "(a UTF-8 file read as ISO-8859-1 shows up like this)"
        )
    return {
        FieldKind.CODE: "not a numeric code (digits or blank)",
        FieldKind.NUMBER: "not a number",
        FieldKind.PNR: "not a CPR number (10 digits, a valid birth date by the century rule)",
        FieldKind.DATE: "not a date yyyy-MM-dd",
        FieldKind.COMPACT_DATE: "not a date yyyyMMdd",
        FieldKind.TIMESTAMP: "not a timestamp yyyyMMddHHmm",
    }.get(kind, f"not a known {kind.value.replace('_', ' ')} code")


# --- converters ---------------------------------------------------------------


def _text(raw: str) -> str:
    return raw.rstrip(" ")


def _code(raw: str) -> str | None:
    return None if raw[0] == " " else raw


def _marker(raw: str) -> str | None:
    return None if raw == " " else raw


def _pnr(raw: str) -> str | None:
    return None if raw[0] == " " or raw == "0000000000" else raw


def _date(raw: str) -> dt.date | PartialDate | None:
    if raw[0] == " " or raw == "0000-00-00":
        return None
    if raw[5:7] == "00" or raw[8:10] == "00":
        return _partial(raw, int(raw[0:4]), raw[5:7], raw[8:10])
    return dt.date(int(raw[0:4]), int(raw[5:7]), int(raw[8:10]))


def _compact_date(raw: str) -> dt.date | None:
    if raw[0] == " " or raw == "00000000":
        return None
    return dt.date(int(raw[0:4]), int(raw[4:6]), int(raw[6:8]))


def _timestamp(raw: str) -> dt.datetime | PartialDate | None:
    if raw[0] == " " or raw == "000000000000":
        return None
    year, month, day = int(raw[0:4]), raw[4:6], raw[6:8]
    if month == "00" or day == "00":
        return _partial(raw, year, month, day)
    hour, minute = int(raw[8:10]), int(raw[10:12])
    if hour > 23 or minute > 59:
        # CPR writes an unknown time of day as an out-of-range time (e.g. 1299).
        return PartialDate(raw, year, int(month), int(day))
    return dt.datetime(year, int(month), int(day), hour, minute)  # noqa: DTZ001 - CPR local time


def _partial(raw: str, year: int, month: str, day: str) -> PartialDate:
    known_month = None if month == "00" else int(month)
    known_day = None if known_month is None or day == "00" else int(day)
    return PartialDate(raw, year, known_month, known_day)


def _enum_converter(kind: FieldKind) -> Callable[[str], Value]:
    code_list = CODE_LISTS[kind.value]

    def convert(raw: str) -> Value:
        return None if raw.isspace() else code_list(raw)

    return convert


_CONVERTERS: dict[FieldKind, Callable[[str], Value]] = {
    FieldKind.TEXT: _text,
    FieldKind.FILLER: _text,
    FieldKind.CODE: _code,
    FieldKind.NUMBER: int,
    FieldKind.DATE: _date,
    FieldKind.COMPACT_DATE: _compact_date,
    FieldKind.TIMESTAMP: _timestamp,
    FieldKind.UNCERTAINTY: _marker,
    FieldKind.NAME_MARKER: _marker,
    FieldKind.PNR: _pnr,
}
for _kind in FieldKind:
    if _kind.value in CODE_LISTS:
        _CONVERTERS[_kind] = _enum_converter(_kind)


def converter(kind: FieldKind) -> Callable[[str], Value]:
    """The function turning a well-formed raw value of ``kind`` into its typed value."""
    return _CONVERTERS[kind]
