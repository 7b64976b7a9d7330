"""``cprbroker events``: replica kept between runs, exit statuses, gaps,
repeats, full loads and rejected persons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_events_files import PNR_A, PNR_B, extract, person

from cprbroker.adapters.replica_file import ReplicaFile
from cprbroker.cli import main
from cprbroker.core.events.sequence import FileMark

REQUIRED_KEYS = {
    "type",
    "pnr",
    "cpr_event_code",
    "derived_mark",
    "municipality_before",
    "municipality_after",
}


def _run(
    capsys: pytest.CaptureFixture[str], *args: str | Path
) -> tuple[int, list[dict[str, Any]], str]:
    status = main(["events", *map(str, args)])
    captured = capsys.readouterr()
    events = [json.loads(line) for line in captured.out.splitlines()]
    return status, events, captured.err


def _summary(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            e["type"],
            e["pnr"],
            e["cpr_event_code"],
            e["municipality_before"],
            e["municipality_after"],
        )
        for e in events
    )


@pytest.fixture
def days(tmp_path: Path) -> dict[str, Path]:
    """Three consecutive deltas and a late one after a missing day."""
    files = {
        "day1": extract(
            person(PNR_A, municipality="0851")
            + person(PNR_B, sex="K", first_names="Erna", events=[("A33", "202403041012")])
            + [],
            task="907001",
            date="20240305",
            previous="20240304",
        ),
        "day2": extract(
            person(
                PNR_A,
                municipality="0101",
                moved_in="202403051536",
                municipality_since="202403051536",
                previous_municipality="0851",
                events=[("A01", "202403051536")],
            )
            + person(PNR_B, sex="K", first_names="Erna Bo"),
            task="907002",
            date="20240306",
            previous="20240305",
        ),
        "day4": extract(
            person(PNR_A, municipality="0101", civil_status="G", events=[("A19", "202403081200")]),
            task="907004",
            date="20240308",
            previous="20240307",
        ),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_bytes(data)
    return paths


def test_events_are_json_lines_with_the_required_keys(
    capsys: pytest.CaptureFixture[str], days: dict[str, Path], tmp_path: Path
) -> None:
    status, events, err = _run(capsys, "--state-dir", tmp_path / "state", days["day1"])
    assert status == 0
    assert _summary(events) == [("cpr.person.protection_changed", PNR_B, "A33", "0101", "0101")]
    assert set(events[0]) >= REQUIRED_KEYS
    assert events[0]["derived_mark"] is None
    assert events[0]["active_protections"] == []
    assert "applied" in err


def test_the_replica_is_kept_between_runs(
    capsys: pytest.CaptureFixture[str], days: dict[str, Path], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    assert _run(capsys, "--state-dir", state, days["day1"])[0] == 0
    status, events, _ = _run(capsys, "--state-dir", state, days["day2"])
    assert status == 0
    # The move comes from its code; the name change only from the diff with
    # the snapshot stored by the first run.
    assert _summary(events) == [
        ("cpr.person.moved", PNR_A, "A01", "0851", "0101"),
        ("cpr.person.municipality_changed", PNR_A, "A01", "0851", "0101"),
        ("cpr.person.name_changed", PNR_B, None, "0101", "0101"),
    ]
    name = next(e for e in events if e["type"] == "cpr.person.name_changed")
    assert name["change"]["before"]["first_names"] == "Erna"
    assert name["change"]["after"]["first_names"] == "Erna Bo"


def test_a_file_already_applied_changes_nothing_and_says_so(
    capsys: pytest.CaptureFixture[str], days: dict[str, Path], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    _run(capsys, "--state-dir", state, days["day1"])
    status, events, err = _run(capsys, "--state-dir", state, days["day1"])
    assert (status, events) == (0, [])
    assert "already applied" in err
    assert "nothing changed" in err


def test_a_gap_is_refused_and_applies_nothing_unless_allowed(
    capsys: pytest.CaptureFixture[str], days: dict[str, Path], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    _run(capsys, "--state-dir", state, days["day1"], days["day2"])
    with ReplicaFile(state) as replica:
        before = replica.get(PNR_A)
    status, events, err = _run(capsys, "--state-dir", state, days["day4"])
    assert (status, events) == (2, [])
    assert "PRODDTOFORRIG 2024-03-07" in err
    assert "last applied PRODDTO 2024-03-06" in err
    assert "--allow-gap" in err
    with ReplicaFile(state) as replica:
        assert replica.last_applied() == FileMark("907002", "2024-03-06", "2024-03-05")
        assert replica.get(PNR_A) == before

    status, events, err = _run(capsys, "--state-dir", state, "--allow-gap", days["day4"])
    assert status == 0
    assert _summary(events) == [("cpr.person.civil_status_changed", PNR_A, "A19", "0101", "0101")]
    assert "gap allowed" in err


def test_a_framing_error_refuses_the_file_and_stops(
    capsys: pytest.CaptureFixture[str], days: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.txt"
    broken.write_bytes(days["day1"].read_bytes().replace(b"99999999990000", b"99999999990001"))
    state = tmp_path / "state"
    status, events, err = _run(capsys, "--state-dir", state, broken, days["day2"])
    assert (status, events) == (2, [])
    assert "broken.txt" in err
    assert "file refused" in err
    with ReplicaFile(state) as replica:
        assert replica.last_applied() is None
        assert len(replica) == 0


def test_rejected_persons_are_named_with_file_and_line_and_the_rest_applies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = person(PNR_A, events=[("A01", "202403041536")]) + person(
        PNR_B, sex="K", events=[("A33", "202403041012")], protections=[("0001", "2024-13-04", "")]
    )
    bad_line = next(i for i, line in enumerate(lines, start=2) if line.startswith("004"))
    path = tmp_path / "day1.txt"
    path.write_bytes(extract(lines))
    status, events, err = _run(capsys, path)
    assert status == 1
    assert _summary(events) == [("cpr.person.moved", PNR_A, "A01", "0101", "0101")]
    assert f"{path}: line {bad_line}: record '004' field START_DT-BESKYTTELSE" in err
    assert "person rejected" in err


def test_a_full_extract_fills_the_replica_without_events(
    capsys: pytest.CaptureFixture[str], days: dict[str, Path], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    status, events, err = _run(capsys, "--state-dir", state, "--full", days["day1"])
    assert (status, events) == (0, [])
    assert "2 persons" in err
    with ReplicaFile(state) as replica:
        assert len(replica) == 2
        snapshot = replica.get(PNR_B)
        assert snapshot is not None
        assert snapshot.name is not None
        assert snapshot.name.first_names == "Erna"


def test_an_unreadable_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = _run(capsys, tmp_path / "missing.txt")
    assert status == 2
    assert "missing.txt: file refused: cannot read it" in err


def test_a_bad_catalogue_setting_is_reported(
    capsys: pytest.CaptureFixture[str],
    days: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text("version = 7\n", encoding="utf-8")
    monkeypatch.setenv("CPRBROKER_EVENT_CATALOGUE", str(catalogue))
    status, _, err = _run(capsys, days["day1"])
    assert status == 2
    assert f"{catalogue}: version" in err
