"""Field values: the per-kind patterns accept exactly what the converters can
type, dates follow the calendar, partly unknown dates are kept."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cprbroker.core.cpr.codes import DerivedMark, Status
from cprbroker.core.cpr.fieldspec import FieldKind
from cprbroker.core.cpr.values import PartialDate, converter, pattern

DATE = re.compile(pattern(FieldKind.DATE, 10))
TIMESTAMP = re.compile(pattern(FieldKind.TIMESTAMP, 12))
COMPACT = re.compile(pattern(FieldKind.COMPACT_DATE, 8))


def _real(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


@given(st.integers(1000, 9999), st.integers(0, 13), st.integers(0, 32))
def test_date_pattern_accepts_real_and_partly_unknown_dates_only(
    year: int, month: int, day: int
) -> None:
    raw = f"{year:04d}-{month:02d}-{day:02d}"
    partly_unknown = (month == 0 and day == 0) or (1 <= month <= 12 and day == 0)
    accepted = DATE.fullmatch(raw) is not None
    assert accepted == (_real(year, month, day) or partly_unknown)
    if accepted:
        value = converter(FieldKind.DATE)(raw)
        if partly_unknown:
            assert isinstance(value, PartialDate)
            assert value.raw == raw
        else:
            assert value == dt.date(year, month, day)


@pytest.mark.parametrize("year", [1900, 2000, 2023, 2024, 2100])
def test_leap_days(year: int) -> None:
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    assert (DATE.fullmatch(f"{year}-02-29") is not None) == leap
    assert (COMPACT.fullmatch(f"{year}0229") is not None) == leap


def test_blank_and_zero_dates_are_none() -> None:
    assert converter(FieldKind.DATE)(" " * 10) is None
    assert converter(FieldKind.DATE)("0000-00-00") is None
    assert converter(FieldKind.TIMESTAMP)("000000000000") is None
    assert converter(FieldKind.TIMESTAMP)(" " * 12) is None
    assert converter(FieldKind.COMPACT_DATE)("00000000") is None


def test_timestamps_are_naive_local_datetimes() -> None:
    assert TIMESTAMP.fullmatch("202403041536")
    assert converter(FieldKind.TIMESTAMP)("202403041536") == dt.datetime(2024, 3, 4, 15, 36)  # noqa: DTZ001


def test_partly_unknown_timestamp_from_the_cb_sample_is_kept() -> None:
    raw = "196100001299"
    assert TIMESTAMP.fullmatch(raw)
    value = converter(FieldKind.TIMESTAMP)(raw)
    assert value == PartialDate(raw, 1961, None, None)
    assert isinstance(value, PartialDate)
    assert value.isoformat() == "1961"
    assert not value.known


def test_out_of_range_time_keeps_the_date() -> None:
    value = converter(FieldKind.TIMESTAMP)("200111021299")
    assert value == PartialDate("200111021299", 2001, 11, 2)


@pytest.mark.parametrize(
    "raw", ["2024-13-04", "2024-02-30", "2024/03/04", "20240304  ", "1961-00-05"]
)
def test_malformed_dates_are_refused(raw: str) -> None:
    assert DATE.fullmatch(raw) is None


def test_code_lists_keep_the_raw_value() -> None:
    status = converter(FieldKind.STATUS)("90")
    assert status is Status.DEAD
    assert status == "90"
    mark = converter(FieldKind.DERIVED_MARK)("ÆG")
    assert mark is DerivedMark.SPOUSE
    assert mark.encode("latin-1") == b"\xc6G"
    assert converter(FieldKind.DERIVED_MARK)("  ") is None
    assert re.fullmatch(pattern(FieldKind.STATUS, 2), "40") is None
    assert re.fullmatch(pattern(FieldKind.DERIVED_MARK, 2), "XX") is None


def test_text_keeps_leading_spaces_and_drops_trailing_ones() -> None:
    assert converter(FieldKind.TEXT)("  th") == "  th"
    assert converter(FieldKind.TEXT)("012 ") == "012"


def test_text_pattern_refuses_control_characters() -> None:
    text = re.compile(pattern(FieldKind.TEXT, 3))
    assert text.fullmatch("Æøå")
    assert text.fullmatch("a\x86b") is None
    assert text.fullmatch("a\x00b") is None
