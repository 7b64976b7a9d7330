"""``cprbroker parse``: JSON per person on stdout, errors on stderr, exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cprbroker.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cpr"
EXAMPLE_A = FIXTURES / "example-a-move-and-protection.txt"
EXAMPLE_B = FIXTURES / "example-b-death-derived-fragment.txt"


def test_clean_file_prints_one_json_object_per_person(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(EXAMPLE_A)]) == 0
    out, err = capsys.readouterr()
    persons = [json.loads(line) for line in out.splitlines()]
    assert [p["pnr"] for p in persons] == ["0701614011", "0707614226"]
    aksel = persons[0]
    assert aksel["file_id"] == "907001-20240305"
    assert sorted(aksel["records"]) == ["001", "002", "099"]
    [address] = aksel["records"]["002"]
    assert address["KOMKOD"] == "0101"
    assert address["FRAFLYKOMKOD"] == "0851"
    assert address["TILFLYDTO"] == "2024-03-04T15:36"
    assert address["SIDEDOER"] == "  th"
    assert address["_line"] == 3
    [protection] = persons[1]["records"]["004"]
    assert protection == {
        "_line": 6,
        "BESKYTTYPE": "0001",
        "START_DT-BESKYTTELSE": "2024-03-04",
        "SLET_DT-BESKYTTELSE": "2025-03-04",
    }
    assert "2 persons" in err


def test_fragment_keeps_the_derived_mark(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--fragment", str(EXAMPLE_B)]) == 0
    persons = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [event] = persons[1]["records"]["099"]
    assert event["AFLEDTMRK"] == "ÆG"
    assert persons[1]["file_id"] is None


def test_refused_person_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(EXAMPLE_A.read_bytes().replace(b"1961-01-07 1961", b"1961-02-30 1961"))
    assert main(["parse", str(bad)]) == 1
    out, err = capsys.readouterr()
    assert [json.loads(line)["pnr"] for line in out.splitlines()] == ["0707614226"]
    assert f"{bad}: line 2: record '001' field FOED_DT" in err
    assert "'1961-02-30'" in err
    assert "0701614011" not in err


def test_refused_file_exits_2_and_other_files_still_parse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truncated = tmp_path / "truncated.txt"
    truncated.write_bytes(EXAMPLE_A.read_bytes()[:300])
    assert main(["parse", str(truncated), str(EXAMPLE_A), str(tmp_path / "missing.txt")]) == 2
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2
    assert f"{truncated}: line 3: file refused" in err
    assert "missing.txt: file refused: cannot read it" in err
