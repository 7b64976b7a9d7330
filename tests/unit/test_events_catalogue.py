"""The event catalogue: the default mapping of issue 4, and its file format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cprbroker.adapters.event_catalogue import default_catalogue_text, load_catalogue
from cprbroker.core.errors import CatalogueError
from cprbroker.core.events.catalogue import Catalogue, TriggerKind, parse_catalogue
from cprbroker.core.events.model import Domain


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def _types(catalogue: Catalogue, code: str, mark: str | None = None) -> set[str]:
    return {rule.type for rule in catalogue.rules_for_code(code, mark)}


CODE_TABLE = [
    ("cpr.person.moved", ["A01", "A09"]),
    ("cpr.person.address_changed", ["A07", "A42", "P10"]),
    ("cpr.person.civil_status_changed", ["A19", "A20", "A23", "A24"]),
    ("cpr.person.name_changed", ["A13", "A14", "A15", "A16", "A17"]),
    ("cpr.person.protection_changed", ["A33", "P11"]),
    ("cpr.person.emigrated", ["A06"]),
    ("cpr.person.immigrated", ["A04", "A05", "P31"]),
    ("cpr.person.disappeared", ["A02"]),
    ("cpr.person.reappeared", ["A03"]),
    ("cpr.person.church_membership_changed", ["A34", "P56"]),
    ("cpr.person.guardianship_changed", ["A73"]),
    ("cpr.person.pnr_changed", ["P02", "P03", "P42", "P43"]),
]


@pytest.mark.parametrize(
    ("event_type", "code"),
    [(event_type, code) for event_type, codes in CODE_TABLE for code in codes],
)
def test_default_codes_give_their_type(catalogue: Catalogue, event_type: str, code: str) -> None:
    assert _types(catalogue, code) == {event_type}
    assert _types(catalogue, code, "ÆG") == {event_type}  # any derived mark


def test_a21_depends_on_the_derived_mark(catalogue: Catalogue) -> None:
    assert _types(catalogue, "A21") == {"cpr.person.died"}
    assert _types(catalogue, "A21", "ÆG") == {"cpr.person.civil_status_changed"}
    assert _types(catalogue, "A21", "PA") == {"cpr.person.civil_status_changed"}
    assert _types(catalogue, "A21", "MO") == {"cpr.person.changed"}
    assert _types(catalogue, "A21", "BØ") == {"cpr.person.changed"}


def test_technical_codes_give_nothing_and_unknown_codes_the_fallback(catalogue: Catalogue) -> None:
    for code in ("A45", "A74", "K74"):
        assert catalogue.rules_for_code(code, None) == ()
    for code in ("A08", "A25", "A47", "P48", "Z99"):
        assert _types(catalogue, code) == {"cpr.person.changed"}


def test_data_triggers_and_domains_of_the_default(catalogue: Catalogue) -> None:
    rules = {rule.type: rule for rule in catalogue.rules}
    assert rules["cpr.person.moved"].is_move
    assert rules["cpr.person.municipality_changed"].accompanies == "cpr.person.moved"
    assert rules["cpr.person.municipality_changed"].codes == ()
    died = rules["cpr.person.died"].data[0]
    assert (died.kind, died.status) == (TriggerKind.STATUS_BECOMES, "90")
    immigrated = rules["cpr.person.immigrated"].data[0]
    assert (immigrated.kind, immigrated.status) == (TriggerKind.STATUS_LEAVES, "80")
    for event_type, domain in [
        ("cpr.person.citizenship_changed", Domain.CITIZENSHIP),
        ("cpr.person.parents_changed", Domain.PARENTS),
        ("cpr.person.children_changed", Domain.CHILDREN),
        ("cpr.person.custody_changed", Domain.CUSTODY),
        ("cpr.person.guardianship_changed", Domain.GUARDIANSHIP),
    ]:
        assert rules[event_type].domain is domain
        assert rules[event_type].data[0].domain is domain
    assert len(catalogue.event_types) == 19
    assert catalogue.event_types[-1] == "cpr.person.changed"


def test_an_operator_file_replaces_the_default(tmp_path: Path) -> None:
    text = default_catalogue_text().replace('codes = ["A01", "A09"]', 'codes = ["A01"]')
    text = text.replace('ignore = ["A45", "A74", "K74"]', 'ignore = ["A45", "A74", "K74", "A09"]')
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    mine = load_catalogue(path)
    assert mine.rules_for_code("A09", None) == ()
    assert _types(mine, "A01") == {"cpr.person.moved"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("version = 1", "version = 2"), "version"),
        (lambda t: t + "\nbogus = 1\n", "bogus: unknown key"),
        (lambda t: t.replace('"A01", "A09"', '"A1", "A09"'), r"event\[0\]\.codes\[0\].*'A1'"),
        (lambda t: t.replace('domain = "church"', 'domain = "faith"'), "unknown domain 'faith'"),
        (lambda t: t.replace('["changed:church"]', '["changed"]'), "unknown domain ''"),
        (lambda t: t.replace('"status_becomes:90"', '"status_becomes:9"'), "two digits"),
        (lambda t: t.replace('data = ["moved"]', 'data = ["jumped"]'), "unknown data trigger"),
        (
            lambda t: t.replace('accompanies = "cpr.person.moved"', 'accompanies = "cpr.x.y"'),
            "no event has type 'cpr.x.y'",
        ),
        (lambda t: t.replace("cpr.person.reappeared", "cpr.person.disappeared"), "listed twice"),
        (lambda t: t.replace('type = "cpr.person.died"', 'type = "Died"'), "type: not an event"),
        (lambda t: t.replace("version = 1", "version = = 1"), "not valid TOML"),
    ],
)
def test_a_malformed_catalogue_names_file_key_and_value(
    edit: Callable[[str], str], message: str
) -> None:
    text = edit(default_catalogue_text())
    with pytest.raises(CatalogueError, match=message) as caught:
        parse_catalogue(text, source="ops/catalogue.toml")
    assert str(caught.value).startswith("ops/catalogue.toml: ")


def test_an_unreadable_file_is_a_catalogue_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.toml")
