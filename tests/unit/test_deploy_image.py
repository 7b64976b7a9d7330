"""deploy/Dockerfile, read rather than built (no container engine runs here):
one slim Python image without Java, installed by uv from the lock file, run as
an unprivileged user with the role as its command."""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import tomllib
from pathlib import PurePosixPath

from tests.unit.deploy_support import DEPLOY, REPO, image_environ, roles_reading

DOCKERFILE = DEPLOY / "Dockerfile"


@functools.cache
def instructions() -> tuple[tuple[str, str], ...]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    logical = re.sub(r"\\\n", " ", text)
    result = []
    for line in logical.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return tuple(result)


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, in order."""
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, rest))
    return result


def build_args() -> dict[str, str]:
    return dict(
        rest.split("=", 1) for keyword, rest in instructions() if keyword == "ARG" and "=" in rest
    )


def test_every_stage_is_python_3_11_slim() -> None:
    args = build_args()
    for stage in stages():
        image = stage[0][1].split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert image == "python:3.11-slim"


def test_the_image_has_no_java_and_installs_no_system_packages() -> None:
    runs = " ".join(rest for keyword, rest in instructions() if keyword == "RUN").lower()
    assert not re.search(r"\b(java|jdk|jre|openjdk|temurin|mvn|maven)\b", runs)
    assert "apt-get" not in runs
    assert "apk " not in runs


def test_dependencies_come_from_the_lock_file_through_uv_without_dev_tools() -> None:
    runs = [rest for keyword, rest in instructions() if keyword == "RUN"]
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs
    for sync in syncs:
        assert "--frozen" in sync
        assert "--no-dev" in sync
    # The project goes in as a wheel: the runtime stage copies only the venv.
    assert "--no-editable" in syncs[-1]
    assert re.search(r'pip install [^\n]*"uv==\$\{UV_VERSION\}"', " ".join(runs))
    assert re.fullmatch(r"\d+\.\d+\.\d+", build_args()["UV_VERSION"])


def test_the_runtime_stage_runs_cprbroker_as_an_unprivileged_user() -> None:
    runtime = stages()[-1]
    users = [rest for keyword, rest in runtime if keyword == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}
    assert int(users[-1].split(":")[0]) >= 1000
    (entrypoint,) = [rest for keyword, rest in runtime if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["cprbroker"]
    copies = [rest for keyword, rest in runtime if keyword == "COPY"]
    assert copies == ["--from=build /opt/cprbroker /opt/cprbroker"]


def test_the_entrypoint_is_the_projects_console_script() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["cprbroker"] == "cprbroker.cli:main"


def test_every_cprbroker_variable_the_image_sets_is_read_by_a_role() -> None:
    settings = [name for name in image_environ() if name.startswith("CPRBROKER_")]
    assert settings
    assert [name for name in settings if not roles_reading(name)] == []


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether ``path`` is left out of the build context by ``patterns``
    (.dockerignore rules: the last matching pattern wins, ``!`` re-includes,
    a pattern matching a folder covers what is inside it)."""
    result = False
    parts = PurePosixPath(path).parts
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.rstrip("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if body.startswith("**/"):
            matched = any(fnmatch.fnmatch(part, body[3:]) for part in parts)
        else:
            matched = any(fnmatch.fnmatch(prefix, body) for prefix in prefixes)
        if matched:
            result = not negate
    return result


def dockerignore() -> list[str]:
    text = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_the_ignore_rules_keep_only_what_the_build_needs() -> None:
    patterns = dockerignore()
    assert ignored("tests/unit/test_deploy_image.py", patterns)
    assert ignored(".venv/bin/python", patterns)
    assert ignored("services/cprbroker/__pycache__/cli.cpython-311.pyc", patterns)
    assert not ignored("services/cprbroker/cli.py", patterns)
    assert not ignored("schemas/dk.cprbroker.v1.BusinessEvent.avsc", patterns)


def test_everything_the_build_copies_is_in_the_repository_and_the_build_context() -> None:
    patterns = dockerignore()
    copied = [
        source
        for keyword, rest in instructions()
        if keyword == "COPY" and not rest.startswith("--from")
        for source in rest.split()[:-1]
    ]
    assert "uv.lock" in copied
    for source in copied:
        assert (REPO / source).exists(), source
        assert not ignored(source, patterns), source


def runtime_packages(lock: dict[str, object]) -> set[str]:
    """The locked packages cprbroker needs at run time (no dev group)."""
    packages = {package["name"]: package for package in lock["package"]}  # type: ignore[attr-defined]
    wanted, todo = set(), ["cprbroker"]
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        todo.extend(dependency["name"] for dependency in packages[name].get("dependencies", []))
    return wanted - {"cprbroker"}


def test_every_runtime_dependency_has_a_wheel_for_the_slim_image() -> None:
    # python:3.11-slim has no compiler: a dependency without a wheel for
    # CPython 3.11 on x86-64 Linux would fail the build.
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    by_name = {package["name"]: package for package in lock["package"]}
    needed = runtime_packages(lock)
    assert {"aiokafka", "faust-streaming", "rocksdict"} <= needed
    fits = re.compile(r"-(cp311-cp311|cp3\d+-abi3|py3-none|py2\.py3-none)-(manylinux\S*x86_64|any)")
    missing = [
        name
        for name in sorted(needed)
        if not any(
            fits.search(wheel["url"].rsplit("/", 1)[-1])
            for wheel in by_name[name].get("wheels", [])
        )
    ]
    assert missing == []
