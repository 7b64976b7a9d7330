"""The synthetic generator's files: framing, parsing, naming, determinism."""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

import pytest

from cprbroker import cli
from cprbroker.commands import synth
from cprbroker.core.cpr.layouts import LAYOUTS, format_record
from cprbroker.core.cpr.parser import parse_extract
from cprbroker.core.cpr.records import Extract
from cprbroker.synth.households import found_population
from cprbroker.synth.lines import RecordFormatter
from cprbroker.synth.records import end_record, event_record, person_records, start_record
from cprbroker.synth.writer import (
    SynthReport,
    SynthSettings,
    file_name,
    generate,
    production_dates,
    write_full_extract,
)

START = dt.date(2024, 3, 7)  # a Thursday: the deltas cross a weekend


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> tuple[SynthReport, list[Extract]]:
    out = tmp_path_factory.mktemp("synth-files")
    report = generate(SynthSettings(persons=1000, days=4, seed="files", out=out, start=START))
    extracts = [parse_extract(path.read_bytes(), source=path.name) for path in report.files]
    return report, extracts


def test_every_file_parses_cleanly_with_exact_records(
    series: tuple[SynthReport, list[Extract]],
) -> None:
    report, extracts = series
    assert len(extracts) == 5
    for path, extract in zip(report.files, extracts, strict=True):
        assert extract.rejected == [], path.name
        assert extract.end.counter == extract.record_count
        data = path.read_bytes()
        assert data.endswith(b"\n")
        assert b"\r" not in data
        lines = data.decode("iso-8859-1").split("\n")[:-1]
        assert lines[0].startswith("000")
        assert lines[-1].startswith("999")
        assert len(lines) == extract.record_count + 2
        for line in lines:
            assert len(line) == LAYOUTS[line[:3]].length, (path.name, line[:3])


def test_names_and_production_dates_chain(series: tuple[SynthReport, list[Extract]]) -> None:
    report, extracts = series
    full = extracts[0].start
    assert full.production_date == START
    assert full.previous_production_date == START - dt.timedelta(days=1)
    previous = START
    for path, extract in zip(report.files, extracts, strict=True):
        start = extract.start
        assert start.opgavenr == "907001"
        assert path.name == f"D{start.production_date:%y%m%d}.L907001"
        if extract is not extracts[0]:
            assert start.previous_production_date == previous
            assert start.production_date.weekday() < 5
            previous = start.production_date
    # Thursday start: Friday, then Monday after the weekend.
    assert [e.start.production_date.weekday() for e in extracts[1:]] == [4, 0, 1, 2]
    assert production_dates(START, 4) == [e.start.production_date for e in extracts[1:]]
    assert file_name(dt.date(2018, 9, 27), "123456") == "D180927.L123456"


def test_full_extract_holds_everyone_once_without_events(
    series: tuple[SynthReport, list[Extract]],
) -> None:
    _, extracts = series
    full = extracts[0]
    pnrs = [person.pnr for person in full.persons]
    assert len(pnrs) == len(set(pnrs)) == 1000
    assert all(not person.of_type("099") for person in full.persons)


def test_a_delta_holds_a_full_snapshot_and_events_per_changed_person(
    series: tuple[SynthReport, list[Extract]],
) -> None:
    report, extracts = series
    for path, delta in zip(report.files[1:], extracts[1:], strict=True):
        assert delta.persons, path.name
        for person in delta.persons:
            types = set(person.record_types)
            assert {"001", "003", "008", "009", "010", "011", "012", "015", "099"} <= types
            status = person.first("001")
            assert status is not None
            assert ("002" in types) == (status.raw_value("STATUS") < "30")
            # Events come after the person's data records.
            kinds = [r.record_type for r in person.records if r.record_type != "003"]
            assert kinds.index("099") == len(kinds) - len(person.of_type("099"))


def test_truth_file_beside_every_delta(series: tuple[SynthReport, list[Extract]]) -> None:
    report, _ = series
    for path in report.files[1:]:
        truth = path.with_name(path.name + ".truth.jsonl")
        assert truth.read_text(encoding="utf-8").strip()
    assert not report.files[0].with_name(report.files[0].name + ".truth.jsonl").exists()


def test_records_003_can_stand_at_the_end(tmp_path: Path) -> None:
    population = found_population(random.Random("trailing"), 120, START)
    path = tmp_path / "D240307.L907001"
    settings = SynthSettings(persons=120, days=0, seed="x", out=tmp_path, start=START)
    count = write_full_extract(path, population, settings, trailing_003=True)
    lines = path.read_text(encoding="iso-8859-1").splitlines()[1:-1]
    kinds = [line[:3] for line in lines]
    first_003 = kinds.index("003")
    assert set(kinds[first_003:]) == {"003"}
    assert kinds.count("003") == 120 == len(population)
    extract = parse_extract(path.read_bytes(), source=path.name)
    assert extract.record_count == count
    assert all(len(person.of_type("003")) == 1 for person in extract.persons)
    assert len(extract.persons) == 120


def _series_bytes(out: Path, seed: str) -> dict[str, bytes]:
    generate(SynthSettings(persons=400, days=3, seed=seed, out=out))
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = _series_bytes(tmp_path / "a", "same")
    second = _series_bytes(tmp_path / "b", "same")
    assert first == second
    assert len(first) == 1 + 3 + 3  # full extract, 3 deltas, 3 truth files
    other = _series_bytes(tmp_path / "c", "other")
    assert other.keys() == first.keys()
    assert other["D240304.L907001"] != first["D240304.L907001"]


def _synth_command(argv: list[str]) -> int:
    # Only this command's parser: building the whole CLI imports every role.
    parser = argparse.ArgumentParser(prog="cprbroker")
    synth.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.handler(args)
    return status


def test_command_is_registered() -> None:
    assert cli.COMMANDS["synth"][0] == "cprbroker.commands.synth"


def test_command_writes_series_and_prints_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["synth", "--persons", "250", "--days", "2", "--seed", "9", "--out", str(out)]
    assert _synth_command([*argv, "--quiet", "--opgavenr", "123456", "--start", "2024-05-06"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "1 full extract of 250 persons and 2 deltas" in captured.out
    assert "expected business events by type:" in captured.out
    assert "  total  " in captured.out
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "D240506.L123456",
        "D240507.L123456",
        "D240507.L123456.truth.jsonl",
        "D240508.L123456",
        "D240508.L123456.truth.jsonl",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        ["--persons", "0"],
        ["--persons", "5", "--opgavenr", "12"],
        ["--persons", "5", "--days", "-1"],
    ],
)
def test_command_refuses_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _synth_command(["synth", "--out", str(tmp_path), *bad])
    assert exit_info.value.code == 2
    assert "synth" in capsys.readouterr().err


def test_formatter_matches_format_record_on_every_record() -> None:
    rng = random.Random("formatter")
    population = found_population(rng, 400, START)
    formatter = RecordFormatter()
    records = [r for pnr in population.order for r in person_records(population[pnr])]
    records += [
        start_record("907001", "20240307", "20240306"),
        end_record(12),
        event_record("0701614011", "202403041536", "A21", "ÆG"),
        ("003", {}),
    ]
    assert len({kind for kind, _ in records}) >= 14
    for kind, values in records:
        assert formatter.line(kind, values) == format_record(kind, values)


def test_formatter_refuses_what_format_record_refuses() -> None:
    formatter = RecordFormatter()
    with pytest.raises(ValueError, match="KOMKOD"):
        formatter.line("002", {"PNR": "0701614011", "KOMKOD": "08510"})
    with pytest.raises(KeyError, match="NOSUCH"):
        formatter.line("002", {"PNR": "0701614011", "NOSUCH": "1"})
    with pytest.raises(KeyError, match="123"):
        formatter.line("123", {"PNR": "0701614011"})
