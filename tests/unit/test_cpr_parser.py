"""Parsing the §8 examples, in every file shape the CPR office may send."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cprbroker.core.cpr.codes import CivilStatus, DerivedMark, ProtectionType, Sex, Status
from cprbroker.core.cpr.layouts import format_record
from cprbroker.core.cpr.parser import parse_extract, parse_records
from cprbroker.core.cpr.records import Extract

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cpr"
EXAMPLE_A = (FIXTURES / "example-a-move-and-protection.txt").read_bytes()
EXAMPLE_B = (FIXTURES / "example-b-death-derived-fragment.txt").read_bytes()
AKSEL, ERNA, SPOUSE = "0701614011", "0707614226", "0708614327"


def _ts(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M")  # noqa: DTZ007 - CPR local time


def _check_example_a(extract: Extract) -> None:
    assert extract.rejected == []
    assert extract.file_id == "907001-20240305"
    assert extract.start.opgavenr == "907001"
    assert extract.start.production_date == dt.date(2024, 3, 5)
    assert extract.start.previous_production_date == dt.date(2024, 3, 4)
    assert extract.end.counter == 6
    assert extract.record_count == 6
    assert [p.pnr for p in extract.persons] == [AKSEL, ERNA]
    aksel, erna = extract.persons
    assert [r.record_type for r in aksel.records] == ["001", "002", "099"]
    assert [r.record_type for r in erna.records] == ["001", "004", "099"]

    address = aksel.first("002")
    assert address is not None
    assert address["KOMKOD"] == "0101"
    assert address["VEJKOD"] == "1234"
    assert address.raw_value("HUSNR") == "012 "
    assert address["ETAGE"] == "03"
    assert address["SIDEDOER"] == "  th"
    assert address["TILFLYDTO"] == address["TILFLYKOMDTO"] == _ts("2024-03-04 15:36")
    assert address["FRAFLYKOMKOD"] == "0851"
    assert address["FRAFLYKOMDTO"] == _ts("2024-03-04 15:36")
    assert address["START_MYNKOD-ADRTXT"] == "0000"
    view = aksel.address
    assert view is not None
    assert (view.previous_municipality_code, view.municipality_code) == ("0851", "0101")

    person = aksel.person
    assert person is not None
    assert person.status is Status.ACTIVE
    assert person.sex is Sex.MALE
    assert person.birth_date == dt.date(1961, 1, 7)
    assert person.occupation == "Pilot"

    [move] = aksel.events
    assert (move.code, move.timestamp, move.derived_mark) == ("A01", _ts("2024-03-04 15:36"), None)
    assert move.key_constant == ""

    [protection] = erna.protections
    assert protection.protection_type is ProtectionType.NAME_AND_ADDRESS
    assert protection.protection_type == "0001"
    assert (protection.start_date, protection.end_date) == (
        dt.date(2024, 3, 4),
        dt.date(2025, 3, 4),
    )
    [event] = erna.events
    assert (event.code, event.timestamp, event.is_derived) == (
        "A33",
        _ts("2024-03-04 10:12"),
        False,
    )


def test_example_a_decodes_as_section_8_says() -> None:
    extract = parse_extract(EXAMPLE_A, source="example-a.txt")
    _check_example_a(extract)
    assert [r.line for r in extract.persons[0].records] == [2, 3, 4]


def test_example_a_without_line_breaks() -> None:
    joined = EXAMPLE_A.replace(b"\n", b"")
    extract = parse_extract(joined, source="example-a-fixed.txt")
    _check_example_a(extract)
    # In fixed-length mode "line" is the record's ordinal.
    assert [r.line for r in extract.persons[1].records] == [5, 6, 7]


def test_example_a_with_crlf() -> None:
    _check_example_a(parse_extract(EXAMPLE_A.replace(b"\n", b"\r\n"), source="crlf.txt"))


def test_example_a_with_trimmed_lines() -> None:
    trimmed = b"\n".join(line.rstrip(b" ") for line in EXAMPLE_A.split(b"\n"))
    assert len(trimmed) < len(EXAMPLE_A)
    _check_example_a(parse_extract(trimmed, source="trimmed.txt"))


def test_example_a_fixed_length_with_crlf_between_records() -> None:
    lines = EXAMPLE_A.split(b"\n")
    data = lines[0] + b"".join(b"\r\n" + line for line in lines[1:])
    _check_example_a(parse_extract(data, source="x.txt"))


def test_example_b_fragment_decodes_as_section_8_says() -> None:
    fragment = parse_records(EXAMPLE_B, source="example-b.txt")
    assert fragment.rejected == []
    assert [p.pnr for p in fragment.persons] == [SPOUSE, ERNA]
    deceased, widow = fragment.persons
    person = deceased.person
    assert person is not None
    assert person.status is Status.DEAD
    assert person.status_start == _ts("2024-03-03 12:00")
    [death] = deceased.events
    assert (death.code, death.derived_mark) == ("A21", None)

    civil = widow.civil_status
    assert civil is not None
    assert civil.civil_status is CivilStatus.WIDOWED
    assert civil.spouse_pnr == SPOUSE
    assert civil.start == _ts("2024-03-03 12:00")
    assert civil.separation_reference is None
    [derived] = widow.events
    assert derived.code == "A21"
    assert derived.derived_mark is DerivedMark.SPOUSE
    assert derived.is_derived


def test_example_b_wrapped_in_framing() -> None:
    start = format_record("000", {"OPGAVENR": "907001", "PRODDTO": "20240304"})
    end = format_record("999", {"SORTFELT-10": "9" * 10, "TAELLER": "00000004"})
    data = start.encode("latin-1") + b"\n" + EXAMPLE_B + end.encode("latin-1") + b"\n"
    extract = parse_extract(data, source="b.txt")
    assert extract.rejected == []
    assert extract.start.previous_production_date is None
    assert [p.pnr for p in extract.persons] == [SPOUSE, ERNA]


def test_records_are_grouped_by_pnr_wherever_they_stand() -> None:
    lines = [
        format_record("001", {"PNR": AKSEL, "STATUS": "01", "KOEN": "M"}),
        format_record("001", {"PNR": ERNA, "STATUS": "01", "KOEN": "K"}),
        format_record("099", {"PNR": ERNA, "TIMESTAMPU": "202403041012", "HAENDELSE": "A33"}),
        format_record("003", {"PNR": AKSEL, "ADRNVN": "Sander,Aksel"}),
    ]
    fragment = parse_records("\n".join(lines).encode("latin-1"), source="mixed.txt")
    aksel, erna = fragment.persons
    assert aksel.pnr == AKSEL
    assert [(r.record_type, r.line) for r in aksel] == [("001", 1), ("003", 4)]
    assert [(r.record_type, r.line) for r in erna] == [("001", 2), ("099", 3)]
    assert aksel.record_types == ["001", "003"]


def test_real_cb_event_lines_trimmed() -> None:
    data = "\n".join(
        [
            "0990701614011200111021536A01",
            "0990701614011200111021536A33",
            "0990707614226200111071004A21ÆG",
            "0990307610078200111071551P03PN",
        ]
    ).encode("latin-1")
    fragment = parse_records(data, source="cb.txt")
    assert fragment.rejected == []
    codes = {p.pnr: [(e.code, e.derived_mark) for e in p.events] for p in fragment.persons}
    assert codes == {
        AKSEL: [("A01", None), ("A33", None)],
        ERNA: [("A21", DerivedMark.SPOUSE)],
        "0307610078": [("P03", DerivedMark.NEW_CURRENT_PNR)],
    }


def test_error_and_receipt_records_are_kept_apart() -> None:
    lines = [
        format_record("910", {"SORTFELT-10": AKSEL, "FEJLNR": "0012", "FEJLTXT": "UKENDT PNR"}),
        format_record("997", {"PNR": ERNA, "TIMESTAMPU": "202403041012", "HAENDELSE": "A45"}),
    ]
    fragment = parse_records("\n".join(lines).encode("latin-1"), source="x.txt")
    assert fragment.persons == []
    [error] = fragment.error_records
    assert (error["FEJLNR"], error["FEJLTXT"]) == ("0012", "UKENDT PNR")
    [receipt] = fragment.receipts
    assert receipt.pnr == ERNA
    assert receipt["HAENDELSE"] == "A45"


def test_every_field_of_every_layout_reads_back_typed() -> None:
    # Blank records of every person type parse, and every field types without error.
    from cprbroker.core.cpr.layouts import PERSON_RECORD_TYPES

    lines = [format_record(code, {"PNR": AKSEL}) for code in sorted(PERSON_RECORD_TYPES)]
    fragment = parse_records("\n".join(lines).encode("latin-1"), source="blank.txt")
    assert fragment.rejected == []
    [person] = fragment.persons
    assert len(person) == len(PERSON_RECORD_TYPES)
    for record in person:
        fields = record.fields
        assert fields["PNR"] == AKSEL
        assert all(v in (None, "", AKSEL, record.record_type) for v in fields.values())


@pytest.mark.parametrize("shape", ["lines", "fixed"])
def test_partly_unknown_dates_do_not_refuse_the_person(shape: str) -> None:
    line = format_record(
        "001", {"PNR": AKSEL, "STATUS": "01", "STATUSHAENSTART": "196100001299", "KOEN": "M"}
    )
    data = (line + "\n" if shape == "lines" else line).encode("latin-1")
    [person] = parse_records(data, source="x.txt").persons
    info = person.person
    assert info is not None
    assert info.status_start is not None
    assert not isinstance(info.status_start, dt.date)
    assert info.status_start.raw == "196100001299"
