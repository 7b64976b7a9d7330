"""Bad input: framing errors refuse the file, field errors refuse one person,
and every message names the file, line, record type, field and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from cprbroker.core.cpr.layouts import format_record
from cprbroker.core.cpr.parser import parse_extract, parse_records
from cprbroker.core.errors import ExtractError, FramingError, InputError, RecordError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cpr"
EXAMPLE_A = (FIXTURES / "example-a-move-and-protection.txt").read_bytes()
EXAMPLE_B = (FIXTURES / "example-b-death-derived-fragment.txt").read_bytes()
LINES = EXAMPLE_A.split(b"\n")[:-1]  # 8 lines; the file ends with a line break
AKSEL, ERNA = "0701614011", "0707614226"


def _file(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def _replace(line_no: int, start: int, value: bytes) -> bytes:
    """Example A with ``value`` written at 1-based ``start`` of line ``line_no``."""
    lines = list(LINES)
    line = lines[line_no - 1]
    lines[line_no - 1] = line[: start - 1] + value + line[start - 1 + len(value) :]
    return _file(lines)


def _refused(data: bytes, source: str = "D240305.L907001") -> FramingError:
    with pytest.raises(FramingError) as caught:
        parse_extract(data, source=source)
    error = caught.value
    assert isinstance(error, ExtractError)
    assert isinstance(error, InputError)
    assert not error.retriable
    assert source in str(error)
    return error


def test_truncated_file_is_refused() -> None:
    error = _refused(_file(LINES[:5]) + LINES[5][:20])
    assert "999" in str(error)
    assert "truncated" in str(error)


def test_truncated_last_record_without_line_breaks_is_refused() -> None:
    data = b"".join(LINES)[:-8]
    error = _refused(data)
    assert "record 999 is truncated: 13 of 21 characters" in str(error)
    assert error.line == 8


def test_counter_mismatch_is_refused() -> None:
    lines = [*LINES[:-1], b"999999999999900000005"]
    error = _refused(_file(lines))
    assert "counts 5 data records but the file has 6" in str(error)
    assert error.line == 8


def test_missing_start_record_is_refused() -> None:
    error = _refused(_file(LINES[1:]))
    assert "start record 000" in str(error)
    assert error.line == 1


def test_misplaced_end_record_is_refused() -> None:
    lines = [LINES[0], LINES[1], LINES[7], *LINES[2:]]
    error = _refused(_file(lines))
    assert "end record 999 where a data record belongs" in str(error)
    assert error.line == 3


def test_bad_production_date_is_refused() -> None:
    error = _refused(_replace(1, 20, b"20241305"))
    assert "PRODDTO" in str(error)
    assert "'20241305'" in str(error)


def test_utf8_file_is_refused_with_a_clear_message() -> None:
    start = format_record("000", {"OPGAVENR": "907001", "PRODDTO": "20240304"})
    end = format_record("999", {"SORTFELT-10": "9" * 10, "TAELLER": "00000004"})
    text = start + "\n" + EXAMPLE_B.decode("latin-1") + end + "\n"
    error = _refused(text.encode("utf-8"))
    assert "UTF-8" in str(error)
    assert "ISO-8859-1" in str(error)
    assert "line 5" in str(error)


def test_utf16_file_is_refused() -> None:
    error = _refused(EXAMPLE_A.decode("latin-1").encode("utf-16"))
    assert "NUL" in str(error)


def test_empty_file_is_refused() -> None:
    assert "empty" in str(_refused(b""))


def test_unknown_record_type_without_line_breaks_is_refused() -> None:
    data = b"".join(LINES).replace(b"0040707614226", b"0770707614226")
    error = _refused(data)
    assert "unknown record type '077'" in str(error)
    assert error.line == 6


def test_invalid_date_refuses_only_that_person() -> None:
    extract = parse_extract(_replace(2, 40, b"1961-13-07"), source="D240305.L907001")
    assert [p.pnr for p in extract.persons] == [ERNA]
    [error] = extract.rejected
    assert isinstance(error, RecordError)
    assert (error.source, error.line, error.record_type) == ("D240305.L907001", 2, "001")
    assert (error.field, error.value, error.pnr) == ("FOED_DT", "1961-13-07", AKSEL)
    message = str(error)
    for part in ("D240305.L907001", "line 2", "'001'", "FOED_DT", "'1961-13-07'"):
        assert part in message
    assert AKSEL not in message


def test_non_numeric_code_refuses_only_that_person() -> None:
    extract = parse_extract(_replace(3, 14, b"01A1"), source="f.txt")
    assert [p.pnr for p in extract.persons] == [ERNA]
    [error] = extract.rejected
    assert (error.line, error.field, error.value) == (3, "KOMKOD", "01A1")
    assert "numeric" in error.reason


def test_unknown_code_refuses_only_that_person() -> None:
    extract = parse_extract(_replace(6, 14, b"0009"), source="f.txt")
    assert [p.pnr for p in extract.persons] == [AKSEL]
    [error] = extract.rejected
    assert (error.line, error.record_type, error.field, error.value) == (
        6,
        "004",
        "BESKYTTYPE",
        "0009",
    )


def test_invalid_pnr_is_reported_without_repeating_it() -> None:
    extract = parse_extract(_replace(7, 4, b"3213614226"), source="f.txt")
    # The 099 record now belongs to a number that cannot exist; ERNA's other
    # records are fine, so only the bad record's "person" is refused.
    [error] = extract.rejected
    assert (error.line, error.field, error.value) == (7, "PNR", "3213614226")
    assert "3213614226" not in str(error)
    assert [p.pnr for p in extract.persons] == [AKSEL, ERNA]


def test_invalid_related_pnr_refuses_the_person() -> None:
    bad = EXAMPLE_B.replace(b"E0708614327", b"E3208614327")
    fragment = parse_records(bad, source="b.txt")
    [error] = fragment.rejected
    assert (error.line, error.record_type, error.field, error.pnr) == (3, "012", "AEGTEPNR", ERNA)
    assert [p.pnr for p in fragment.persons] == ["0708614327"]


def test_undecodable_text_refuses_the_person() -> None:
    extract = parse_extract(_replace(2, 80, b"\x86\x01"), source="f.txt")
    [error] = extract.rejected
    assert error.field == "STILLING"
    assert "control character U+0086" in str(error)
    assert [p.pnr for p in extract.persons] == [ERNA]


def test_unknown_record_type_in_a_line_broken_file_refuses_the_person() -> None:
    extract = parse_extract(_replace(6, 1, b"077"), source="f.txt")
    [error] = extract.rejected
    assert (error.line, error.field, error.value, error.pnr) == (6, "RECORDTYPE", "077", ERNA)
    assert [p.pnr for p in extract.persons] == [AKSEL]


def test_too_long_line_refuses_the_person() -> None:
    lines = list(LINES)
    lines[5] += b"  x"
    extract = parse_extract(_file(lines), source="f.txt")
    [error] = extract.rejected
    assert error.line == 6
    assert "line is 40 characters, record 004 has 37" in str(error)
    assert [p.pnr for p in extract.persons] == [AKSEL]


def test_trailing_blanks_beyond_the_record_are_accepted() -> None:
    lines = [line + b"    " for line in LINES]
    extract = parse_extract(_file(lines), source="f.txt")
    assert extract.rejected == []
    assert len(extract.persons) == 2


def test_empty_line_in_the_middle_is_a_record_error() -> None:
    lines = [*LINES[:4], b"", *LINES[4:-1], b"999999999999900000007"]
    extract = parse_extract(_file(lines), source="f.txt")
    [error] = extract.rejected
    assert (error.line, error.reason, error.pnr) == (5, "empty line", None)
    assert len(extract.persons) == 2


def test_a_start_record_in_a_fragment_is_refused() -> None:
    with pytest.raises(FramingError, match="start record 000 where a data record belongs"):
        parse_records(EXAMPLE_A, source="a.txt")
