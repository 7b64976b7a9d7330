"""The Avro schemas in schemas/: naming, and backward compatibility with the
previous committed version of every file (schemas/README.md, "Evolution rules")."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import avro.compatibility
import avro.name
import avro.schema
import pytest

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"
FILES = sorted(SCHEMAS.glob("*.avsc"))


def _git(*args: str, repo: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def _in_git() -> bool:
    return shutil.which("git") is not None and _git("rev-parse", "HEAD").returncode == 0


def _references(node: object, known: Mapping[str, object], found: set[str]) -> None:
    if isinstance(node, str):
        if node in known:
            found.add(node)
    elif isinstance(node, list):
        for item in node:
            _references(item, known, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key != "doc":
                _references(value, known, found)


def parse_world(texts: Mapping[str, str]) -> dict[str, avro.schema.Schema]:
    """Parse every schema of one version of schemas/ (file stem -> JSON text)
    with the avro library, dependencies first, each once."""
    documents = {stem: json.loads(text) for stem, text in texts.items()}
    names = avro.name.Names()
    parsed: dict[str, avro.schema.Schema] = {}

    def parse(stem: str, trail: tuple[str, ...]) -> avro.schema.Schema:
        if stem in parsed:
            return parsed[stem]
        if stem in trail:
            raise AssertionError(f"schemas refer to each other in a cycle: {(*trail, stem)}")
        needed: set[str] = set()
        _references(documents[stem], documents, needed)
        for dependency in sorted(needed - {stem}):
            parse(dependency, (*trail, stem))
        parsed[stem] = avro.schema.make_avsc_object(documents[stem], names)
        return parsed[stem]

    for stem in documents:
        parse(stem, ())
    return parsed


def _texts_at(commit: str, repo: Path = REPO) -> dict[str, str]:
    listing = _git("ls-tree", "--name-only", commit, "schemas/", repo=repo)
    texts = {}
    for path in listing.stdout.split():
        if path.endswith(".avsc"):
            shown = _git("show", f"{commit}:{path}", repo=repo)
            texts[Path(path).name.removesuffix(".avsc")] = shown.stdout
    return texts


def _working_texts(repo: Path = REPO) -> dict[str, str]:
    return {
        p.name.removesuffix(".avsc"): p.read_text("utf-8")
        for p in sorted((repo / "schemas").glob("*.avsc"))
    }


def _previous_commit(path: Path, repo: Path = REPO) -> str | None:
    """The commit holding the version ``path`` must stay compatible with: HEAD
    when the file has uncommitted changes, else the parent of the last commit
    that touched it; None for a schema with no earlier version."""
    relative = path.relative_to(repo).as_posix()
    at_head = _git("show", f"HEAD:{relative}", repo=repo)
    if at_head.returncode != 0:
        return None  # not committed yet: a new schema
    if at_head.stdout != path.read_text(encoding="utf-8"):
        return "HEAD"
    last = _git("log", "-n1", "--format=%H", "--", relative, repo=repo).stdout.strip()
    if not last or _git("cat-file", "-e", f"{last}^:{relative}", repo=repo).returncode != 0:
        return None  # created by its last commit: nothing older to compare with
    return f"{last}^"


def check_against_previous(path: Path, repo: Path = REPO) -> list[str]:
    """Why the schema in ``path`` cannot read data written with its previous
    committed version (empty when it can, or when it is new)."""
    commit = _previous_commit(path, repo)
    if commit is None:
        return []
    stem = path.name.removesuffix(".avsc")
    old = parse_world(_texts_at(commit, repo))
    if stem not in old:
        return []
    new = parse_world(_working_texts(repo))
    return [f"breaks readers of {commit}: {p}" for p in _incompatibilities(new[stem], old[stem])]


def _incompatibilities(reader: avro.schema.Schema, writer: avro.schema.Schema) -> list[str]:
    result = avro.compatibility.ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
    if result.compatibility is avro.compatibility.SchemaCompatibilityType.compatible:
        return []
    return [
        f"{location}: {message}"
        for location, message in zip(result.locations, result.messages, strict=False)
    ] or [str(result.incompatibilities)]


def test_there_are_schemas_for_the_envelope_the_snapshot_and_the_changes() -> None:
    stems = {path.name.removesuffix(".avsc") for path in FILES}
    assert {"dk.cprbroker.v1.BusinessEvent", "dk.cprbroker.v1.PersonSnapshot"} <= stems
    assert "dk.cprbroker.v1.AddressChange" in stems
    assert (SCHEMAS / "README.md").is_file()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_name_is_the_full_name_of_its_one_type(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), "one named type per file"
    full_name = f"{document['namespace']}.{document['name']}"
    assert path.name == f"{full_name}.avsc"
    assert document["type"] in {"record", "enum", "fixed"}


def test_every_schema_parses_with_the_avro_library() -> None:
    world = parse_world({p.name.removesuffix(".avsc"): p.read_text("utf-8") for p in FILES})
    assert set(world) == {p.name.removesuffix(".avsc") for p in FILES}


def test_every_optional_field_has_a_default() -> None:
    for path in FILES:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        for field in document.get("fields", []):
            if isinstance(field["type"], list) and "null" in field["type"]:
                assert "default" in field, f"{path.name}: field {field['name']} has no default"


@pytest.mark.skipif(not _in_git(), reason="not a git checkout: no committed versions to compare")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_schema_is_backward_compatible_with_its_previous_version(path: Path) -> None:
    problems = check_against_previous(path)
    assert not problems, f"{path.name}: {problems}"


def _event_world(extra_field: dict[str, Any] | None) -> dict[str, avro.schema.Schema]:
    texts = {p.name.removesuffix(".avsc"): p.read_text("utf-8") for p in FILES}
    if extra_field is not None:
        document = json.loads(texts["dk.cprbroker.v1.Address"])
        document["fields"].append(extra_field)
        texts["dk.cprbroker.v1.Address"] = json.dumps(document)
    return parse_world(texts)


def test_the_check_refuses_a_new_field_without_default_and_accepts_one_with() -> None:
    old = _event_world(None)["dk.cprbroker.v1.BusinessEvent"]
    breaking = _event_world({"name": "district", "type": "string"})
    compatible = _event_world({"name": "district", "type": ["null", "string"], "default": None})
    assert _incompatibilities(breaking["dk.cprbroker.v1.BusinessEvent"], old)
    assert not _incompatibilities(compatible["dk.cprbroker.v1.BusinessEvent"], old)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_git_check_compares_with_head_and_with_the_commit_before_the_last(
    tmp_path: Path,
) -> None:
    def commit(message: str) -> None:
        _git("add", "schemas", repo=tmp_path)
        result = _git(
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-q",
            "-m",
            message,
            repo=tmp_path,
        )
        assert result.returncode == 0, result.stderr

    _git("init", "-q", repo=tmp_path)
    (tmp_path / "schemas").mkdir()
    path = tmp_path / "schemas" / "dk.test.v1.Thing.avsc"

    def write(*fields: dict[str, Any]) -> None:
        document = {
            "type": "record",
            "name": "Thing",
            "namespace": "dk.test.v1",
            "fields": [{"name": "id", "type": "string"}, *fields],
        }
        path.write_text(json.dumps(document), encoding="utf-8")

    write()
    commit("v1")
    assert check_against_previous(path, tmp_path) == []  # new: nothing older
    write({"name": "note", "type": ["null", "string"], "default": None})
    assert check_against_previous(path, tmp_path) == []  # uncommitted, compatible with HEAD
    commit("v2")
    assert check_against_previous(path, tmp_path) == []  # committed, compatible with v1
    write(
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "size", "type": "int"},
    )
    assert check_against_previous(path, tmp_path)  # uncommitted, breaks HEAD
    commit("v3")
    assert check_against_previous(path, tmp_path)  # committed, breaks the commit before
