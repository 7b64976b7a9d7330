"""The synthetic population and its days: valid CPR numbers, consistent
households, real municipalities, every kind of change, and a ground truth that
accounts for every 099 record."""

from __future__ import annotations

import collections
import datetime as dt
import json
from pathlib import Path

import pytest

from cprbroker.core.cpr.parser import parse_extract
from cprbroker.core.cpr.pnr import Pnr, is_valid_pnr, passes_mod11
from cprbroker.core.cpr.records import Extract, PersonRecords
from cprbroker.synth.geography import MUNICIPALITY_BY_CODE
from cprbroker.synth.writer import SynthReport, SynthSettings, generate

PERSONS = 3000
DAYS = 5
START = dt.date(2024, 3, 4)


class Series:
    """A generated series, parsed, with the state after each file."""

    def __init__(self, report: SynthReport) -> None:
        self.report = report
        self.extracts: list[Extract] = [
            parse_extract(path.read_bytes(), source=path.name) for path in report.files
        ]
        self.truth: list[list[dict[str, str | None]]] = [
            [json.loads(line) for line in _truth_path(path).read_text("utf-8").splitlines()]
            for path in report.files[1:]
        ]
        self.states: list[dict[str, PersonRecords]] = []
        state: dict[str, PersonRecords] = {}
        for extract in self.extracts:
            state = state | {person.pnr: person for person in extract.persons}
            self.states.append(state)

    @property
    def deltas(self) -> list[Extract]:
        return self.extracts[1:]


def _truth_path(path: Path) -> Path:
    return path.with_name(path.name + ".truth.jsonl")


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Series:
    out = tmp_path_factory.mktemp("synth-population")
    return Series(generate(SynthSettings(persons=PERSONS, days=DAYS, seed="life", out=out)))


def _raw(person: PersonRecords, record_type: str, field: str) -> str:
    record = person.first(record_type)
    return record.raw_value(field).strip() if record is not None else ""


def _parents(person: PersonRecords) -> set[str]:
    return {_raw(person, "015", "PNRMOR"), _raw(person, "015", "PNRFAR")} - {""}


def _kin(a: PersonRecords, b: PersonRecords) -> bool:
    """Parent and child, or (half) siblings."""
    return a.pnr in _parents(b) or b.pnr in _parents(a) or bool(_parents(a) & _parents(b))


def test_every_pnr_is_valid_under_the_century_rule(series: Series) -> None:
    failing_mod11 = []
    # The last state holds everyone ever written, newborns and new numbers too.
    for pnr, person in series.states[-1].items():
        assert is_valid_pnr(pnr)
        number = Pnr(pnr)
        assert number.birth_date.isoformat() == _raw(person, "001", "FOED_DT")
        assert number.sex.value == _raw(person, "001", "KOEN")
        if not passes_mod11(pnr):
            failing_mod11.append(number)
    # A small share without modulus 11, and only for 1 January birth dates.
    assert failing_mod11
    assert len(failing_mod11) < 0.02 * PERSONS
    assert {(n.birth_date.month, n.birth_date.day) for n in failing_mod11} == {(1, 1)}
    centuries = {Pnr(pnr).birth_date.year // 100 for pnr in series.states[-1]}
    assert centuries == {19, 20}


def test_spouses_point_at_each_other(series: Series) -> None:
    for state in (series.states[0], series.states[-1]):
        married = 0
        for pnr, person in state.items():
            civil = _raw(person, "012", "CIVST")
            spouse_pnr = _raw(person, "012", "AEGTEPNR")
            status = _raw(person, "001", "STATUS")
            if civil == "G" and status != "90":
                married += 1
                spouse = state[spouse_pnr]
                assert _raw(spouse, "012", "AEGTEPNR") == pnr
                assert not _kin(person, spouse)
                # Married to the living or, if the spouse died, widowed.
                assert _raw(spouse, "012", "CIVST") == "G"
            if civil == "E" and spouse_pnr:
                assert _raw(state[spouse_pnr], "001", "STATUS") == "90"
        assert married > 0.3 * PERSONS


def test_children_and_parents_are_linked_both_ways(series: Series) -> None:
    for state in (series.states[0], series.states[-1]):
        links = 0
        for pnr, person in state.items():
            parents = _parents(person)
            if len(parents) == 2:
                mother, father = (state[p] for p in sorted(parents))
                assert not _kin(mother, father)
            for parent_pnr in parents:
                parent = state[parent_pnr]
                assert pnr in {r.raw_value("PNRBARN") for r in parent.of_type("014")}
                links += 1
            for child in person.of_type("014"):
                child_parents = state[child.raw_value("PNRBARN")].first("015")
                assert child_parents is not None
                assert pnr in (child_parents.raw_value("PNRMOR"), child_parents.raw_value("PNRFAR"))
            for custody in person.of_type("016"):
                assert custody.raw_value("RELPNR") in parents
        assert links > 0.2 * PERSONS


def test_only_minors_are_in_custody_at_the_start(series: Series) -> None:
    minors_with_custody = 0
    for person in series.extracts[0].persons:
        if person.of_type("016"):
            assert Pnr(person.pnr).age_on(START) < 18
            minors_with_custody += 1
    assert minors_with_custody > 0.1 * PERSONS


def test_addresses_are_in_real_municipalities_with_consistent_roads(series: Series) -> None:
    roads: dict[tuple[str, str], tuple[str, str]] = {}
    municipalities = collections.Counter[str]()
    for person in series.states[-1].values():
        address = person.first("002")
        if address is None:
            continue
        code = address.raw_value("KOMKOD")
        municipality = MUNICIPALITY_BY_CODE[code]
        municipalities[code] += 1
        text = person.first("003")
        assert text is not None
        postcode = text.raw_value("POSTNR")
        assert postcode in {p for p, _ in municipality.postcodes}
        road = (code, address.raw_value("VEJKOD"))
        named = (text.raw_value("VEJADRNVN"), postcode)
        assert roads.setdefault(road, named) == named
        assert "0001" <= road[1] <= "9899"
    # Weighted by population: the capital is the largest by far.
    assert municipalities.most_common(1)[0][0] == "0101"
    assert len(municipalities) > 60


def test_the_start_has_every_status_and_protections(series: Series) -> None:
    by_status: dict[str, list[PersonRecords]] = collections.defaultdict(list)
    for person in series.extracts[0].persons:
        by_status[_raw(person, "001", "STATUS")].append(person)
    assert set(by_status) == {"01", "70", "80", "90"}
    assert all(p.first("005") and not p.first("002") for p in by_status["80"])
    assert all(p.first("007") and not p.first("002") for p in by_status["70"])
    assert all(not p.first("002") for p in by_status["90"])
    protections = [r for p in by_status["01"] for r in p.of_type("004")]
    name_and_address = [r for r in protections if r.raw_value("BESKYTTYPE") == "0001"]
    assert len(name_and_address) >= 0.01 * PERSONS
    for record in name_and_address:
        start, end = record["START_DT-BESKYTTELSE"], record["SLET_DT-BESKYTTELSE"]
        assert isinstance(start, dt.date)
        assert isinstance(end, dt.date)
        assert start <= START < end
    citizenships = collections.Counter(_raw(p, "010", "LANDEKOD") for p in by_status["01"])
    assert citizenships.most_common(1)[0][0] == "5100"
    assert len(citizenships) > 5


def test_ground_truth_accounts_for_every_099(series: Series) -> None:
    for delta, truth in zip(series.deltas, series.truth, strict=True):
        expected = {(e["pnr"], e["cpr_event_code"], e["derived_mark"]) for e in truth}
        for person in delta.persons:
            for event in person.of_type("099"):
                mark = event.raw_value("AFLEDTMRK").strip() or None
                assert (person.pnr, event.raw_value("HAENDELSE"), mark) in expected
        changed = {person.pnr for person in delta.persons}
        assert {e["pnr"] for e in truth} <= changed


def test_every_kind_of_change_happens(series: Series) -> None:
    types = collections.Counter(
        str(e["type"]).removeprefix("cpr.person.") for t in series.truth for e in t
    )
    assert set(types) >= {
        "moved", "municipality_changed", "died", "civil_status_changed", "name_changed",
        "protection_changed", "emigrated", "immigrated", "disappeared", "reappeared",
        "church_membership_changed", "children_changed", "parents_changed", "pnr_changed",
        "changed",
    }  # fmt: skip
    events = collections.Counter(
        (event.raw_value("HAENDELSE"), event.raw_value("AFLEDTMRK").strip())
        for delta in series.deltas
        for person in delta.persons
        for event in person.of_type("099")
    )
    assert set(events) >= {
        ("A01", ""), ("A19", ""), ("A19", "ÆG"), ("A20", ""), ("A20", "ÆG"), ("A21", ""),
        ("A51", ""), ("A51", "MO"), ("A35", ""), ("A35", "NF"), ("A13", ""), ("A33", ""),
        ("P11", ""), ("A06", ""), ("A04", ""), ("A02", ""), ("A03", ""), ("A34", ""),
        ("P03", ""), ("P03", "PN"),
    }  # fmt: skip
    # Moves dominate, as in the register.
    assert types["moved"] == max(types.values())


def test_daily_volume_is_a_small_share_of_the_population(series: Series) -> None:
    for delta in series.deltas:
        assert 0.001 * PERSONS <= len(delta.persons) <= 0.01 * PERSONS


def _events(person: PersonRecords) -> set[tuple[str, str]]:
    return {
        (e.raw_value("HAENDELSE"), e.raw_value("AFLEDTMRK").strip()) for e in person.of_type("099")
    }


def test_changes_show_in_the_snapshots(series: Series) -> None:
    seen: set[str] = set()
    for index, delta in enumerate(series.deltas):
        before, after = series.states[index], series.states[index + 1]
        for person in delta.persons:
            events = _events(person)
            old = before.get(person.pnr)
            if ("A01", "") in events and old is not None and old.first("002") is not None:
                moved_from = _raw(old, "002", "KOMKOD")
                if moved_from != _raw(person, "002", "KOMKOD"):
                    assert _raw(person, "002", "FRAFLYKOMKOD") == moved_from
                    seen.add("move across")
            if ("A21", "ÆG") in events:
                assert _raw(person, "012", "CIVST") == "E"
                assert _raw(after[_raw(person, "012", "AEGTEPNR")], "001", "STATUS") == "90"
                seen.add("widowed")
            if ("A19", "") in events:
                spouse = after[_raw(person, "012", "AEGTEPNR")]
                assert _raw(spouse, "012", "CIVST") == _raw(person, "012", "CIVST") == "G"
                seen.add("married")
            if ("A51", "") in events:
                assert old is None
                mother = after[_raw(person, "015", "PNRMOR")]
                assert person.pnr in {r.raw_value("PNRBARN") for r in mother.of_type("014")}
                assert ("A51", "MO") in _events(mother)
                seen.add("born")
            if ("P03", "") in events:
                new_pnr = _raw(person, "001", "PNRGAELD")
                assert _raw(person, "001", "STATUS") == "60"
                assert _raw(after[new_pnr], "022", "HISTPNR") == person.pnr
                seen.add("renumbered")
            if ("A06", "") in events:
                assert _raw(person, "001", "STATUS") == "80"
                assert person.first("005") is not None
                seen.add("emigrated")
    assert seen == {"move across", "widowed", "married", "born", "renumbered", "emigrated"}
