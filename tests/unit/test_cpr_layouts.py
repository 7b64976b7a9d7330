"""The record layouts as data: tiling, lengths from §2.2, and format_record."""

from __future__ import annotations

import pytest

from cprbroker.core.cpr.layouts import LAYOUTS, PERSON_RECORD_TYPES, FieldKind, format_record

# Record lengths from cpr-domain.md §2.2.
EXPECTED_LENGTHS = {
    "000": 35, "001": 106, "002": 306, "003": 249, "004": 37, "005": 200, "006": 203,
    "007": 26, "008": 193, "009": 37, "010": 30, "011": 25, "012": 95, "013": 36,
    "014": 23, "015": 147, "016": 58, "017": 272, "018": 60, "019": 75, "020": 47,
    "021": 63, "022": 45, "023": 96, "024": 218, "025": 40, "026": 173, "027": 44,
    "028": 36, "029": 109, "030": 48, "031": 269, "032": 269, "033": 269, "052": 287,
    "099": 45, "910": 157, "997": 43, "999": 21,
}  # fmt: skip


def test_every_record_type_of_the_spec_has_a_layout_of_its_length() -> None:
    assert {code: layout.length for code, layout in LAYOUTS.items()} == EXPECTED_LENGTHS


@pytest.mark.parametrize("record_type", sorted(EXPECTED_LENGTHS))
def test_fields_tile_the_record_exactly(record_type: str) -> None:
    layout = LAYOUTS[record_type]
    position = 1
    for spec in layout.fields:
        assert spec.start == position, f"{record_type} {spec.name}: gap or overlap"
        assert spec.length > 0
        position += spec.length
    assert position - 1 == layout.length
    assert layout.fields[0].name == "RECORDTYPE"


def test_person_records_have_their_pnr_at_4_to_13() -> None:
    for code in PERSON_RECORD_TYPES:
        spec = LAYOUTS[code].field("PNR")
        assert (spec.start, spec.length, spec.kind) == (4, 10, FieldKind.PNR)
    assert not {"000", "910", "997", "999"} & PERSON_RECORD_TYPES


def test_historic_records_carry_annkor_at_14() -> None:
    for code in ("023", "024", "025", "026", "027", "029", "030"):
        spec = LAYOUTS[code].field("ANNKOR")
        assert (spec.start, spec.length) == (14, 1)


def test_format_record_places_values_and_pads_to_length() -> None:
    line = format_record(
        "099",
        {"PNR": "0707614226", "TIMESTAMPU": "202403040915", "HAENDELSE": "A21", "AFLEDTMRK": "ÆG"},
    )
    assert line == "0990707614226202403040915A21ÆG" + " " * 15
    assert len(line) == 45


def test_format_record_left_justifies_short_values() -> None:
    line = format_record("004", {"PNR": "0707614226", "BESKYTTYPE": "1"})
    assert line[13:17] == "1   "
    assert len(line) == 37


def test_format_record_refuses_too_long_values() -> None:
    with pytest.raises(ValueError, match="HAENDELSE"):
        format_record("099", {"HAENDELSE": "A211"})


def test_format_record_refuses_unknown_fields_and_types() -> None:
    with pytest.raises(KeyError, match="NOPE"):
        format_record("099", {"NOPE": "x"})
    with pytest.raises(KeyError, match="123"):
        format_record("123", {})


def test_format_record_refuses_a_disagreeing_recordtype() -> None:
    with pytest.raises(ValueError, match="RECORDTYPE"):
        format_record("099", {"RECORDTYPE": "001"})
