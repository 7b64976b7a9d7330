"""The jars of the local Kafka broker: fetched from Maven Central by Maven.

``deploy/kafka/pom.xml`` names the broker artifact and a logging binding;
Maven's ``copy-dependencies`` puts them and their runtime dependencies in one
folder, the broker's classpath. A stamp file in that folder records the hash of
the pom the jars came from and the jar names, so a later fetch with the same
pom runs nothing at all, and a fetch that only has to repair a deleted jar runs
Maven offline (``-o``) from its local repository.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cprbroker.adapters.local_kafka_settings import LocalKafkaSettings
from cprbroker.core.errors import LocalKafkaError

STAMP_NAME = ".fetched.json"
FETCH_LOG_NAME = "fetch.log"

# Maven in batch mode prints one such line per artifact it transfers.
_DOWNLOADED = re.compile(r"^\[INFO\] Downloaded from \S+: ", re.MULTILINE)

FetchMode = Literal["up-to-date", "offline", "online"]


@dataclass(frozen=True, slots=True)
class JarStamp:
    """Which pom (by SHA-256) the jars in the folder were copied for, and their names."""

    pom_sha256: str
    jars: tuple[str, ...]

    def to_json(self) -> str:
        """The stamp as stored on disk."""
        return json.dumps({"pom_sha256": self.pom_sha256, "jars": list(self.jars)}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> JarStamp | None:
        """Parse a stored stamp; ``None`` when it is not one (a stale or damaged file)."""
        try:
            data = json.loads(text)
            digest, jars = data["pom_sha256"], data["jars"]
        except (ValueError, TypeError, KeyError):
            return None
        if not isinstance(digest, str) or not isinstance(jars, list):
            return None
        if not all(isinstance(name, str) for name in jars):
            return None
        return cls(pom_sha256=digest, jars=tuple(jars))

    def covers(self, pom_sha256: str, present: Collection[str]) -> bool:
        """Whether the folder holds everything this pom needs: same pom, no jar missing."""
        return self.pom_sha256 == pom_sha256 and bool(self.jars) and set(self.jars) <= set(present)


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """What a fetch did: ``mode`` is how Maven ran (or that it did not need to)."""

    mode: FetchMode
    jars: int
    total_bytes: int
    downloaded: int  # artifacts Maven transferred from a remote repository
    seconds: float


def pom_sha256(pom: Path) -> str:
    """SHA-256 of the pom's bytes: any edit to it (a version bump) means a new fetch."""
    try:
        return hashlib.sha256(pom.read_bytes()).hexdigest()
    except OSError as exc:
        raise LocalKafkaError(f"cannot read the Kafka pom {pom}: {exc}") from exc


def read_stamp(jars_dir: Path) -> JarStamp | None:
    """The stamp in ``jars_dir``, or ``None`` when there is none or it is unreadable."""
    try:
        return JarStamp.from_json((jars_dir / STAMP_NAME).read_text(encoding="utf-8"))
    except OSError:
        return None


def present_jars(jars_dir: Path) -> list[str]:
    """Names of the jar files in ``jars_dir`` (empty when the folder does not exist)."""
    if not jars_dir.is_dir():
        return []
    return sorted(path.name for path in jars_dir.glob("*.jar"))


def count_downloads(maven_output: str) -> int:
    """How many artifacts a batch-mode Maven run transferred from a remote repository."""
    return len(_DOWNLOADED.findall(maven_output))


def require_jars(settings: LocalKafkaSettings) -> JarStamp:
    """The stamp of a complete jar folder for the current pom, or a clear error."""
    stamp = read_stamp(settings.jars_dir)
    if stamp is None or not stamp.covers(pom_sha256(settings.pom), present_jars(settings.jars_dir)):
        raise LocalKafkaError(
            f"the Kafka jars in {settings.jars_dir} are missing or were fetched for another "
            "deploy/kafka/pom.xml; run `cprbroker kafka fetch` (or `make setup`) first"
        )
    return stamp


def fetch_jars(settings: LocalKafkaSettings, *, force: bool = False) -> FetchOutcome:
    """Make ``settings.jars_dir`` hold the broker jars for the current pom.

    Runs nothing when the stamp says the folder is complete for this pom (unless
    ``force``); runs Maven offline when only jars are missing; otherwise clears
    the old jars (a different version would shadow the new one on the
    classpath) and runs Maven online. Raises :class:`LocalKafkaError` with the
    tail of Maven's output when Maven fails or is not installed.
    """
    started = time.monotonic()
    digest = pom_sha256(settings.pom)
    jars_dir = settings.jars_dir
    stamp = read_stamp(jars_dir)
    same_pom = stamp is not None and stamp.pom_sha256 == digest
    if not force and stamp is not None and stamp.covers(digest, present_jars(jars_dir)):
        return _outcome("up-to-date", jars_dir, 0, started)

    jars_dir.mkdir(parents=True, exist_ok=True)
    if not same_pom:
        for stale in jars_dir.glob("*.jar"):
            stale.unlink()
    (jars_dir / STAMP_NAME).unlink(missing_ok=True)

    mode: FetchMode = "offline" if same_pom else "online"
    try:
        output = _run_maven(settings, offline=same_pom)
    except LocalKafkaError:
        if not same_pom:
            raise
        # The local Maven repository lost something the jars need: go online.
        mode = "online"
        output = _run_maven(settings, offline=False)

    jars = present_jars(jars_dir)
    if not jars:
        raise LocalKafkaError(f"Maven succeeded but copied no jar into {jars_dir}")
    (jars_dir / STAMP_NAME).write_text(
        JarStamp(pom_sha256=digest, jars=tuple(jars)).to_json(), encoding="utf-8"
    )
    return _outcome(mode, jars_dir, count_downloads(output), started)


def _run_maven(settings: LocalKafkaSettings, *, offline: bool) -> str:
    mvn = shutil.which(settings.mvn)
    if mvn is None:
        raise LocalKafkaError(
            f"Maven ({settings.mvn!r}) is not on PATH; install Maven 3.6+ to fetch the Kafka jars"
        )
    command = [
        mvn,
        "-B",
        *(["-o"] if offline else []),
        "-f",
        str(settings.pom),
        "dependency:copy-dependencies",
        f"-Dkafka.libs.dir={settings.jars_dir}",
    ]
    try:
        completed = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=settings.fetch_timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LocalKafkaError(
            f"Maven did not finish fetching the Kafka jars in {settings.fetch_timeout_s:.0f} s"
        ) from exc
    except OSError as exc:
        raise LocalKafkaError(f"could not run Maven ({mvn}): {exc}") from exc
    log = settings.jars_dir / FETCH_LOG_NAME
    log.write_text(completed.stdout, encoding="utf-8")
    if completed.returncode != 0:
        tail = "\n".join(completed.stdout.splitlines()[-25:])
        raise LocalKafkaError(
            f"Maven failed ({'offline' if offline else 'online'}, exit {completed.returncode}) "
            f"fetching the Kafka jars; full output in {log}:\n{tail}"
        )
    return completed.stdout


def _outcome(mode: FetchMode, jars_dir: Path, downloaded: int, started: float) -> FetchOutcome:
    paths = list(jars_dir.glob("*.jar"))
    return FetchOutcome(
        mode=mode,
        jars=len(paths),
        total_bytes=sum(path.stat().st_size for path in paths),
        downloaded=downloaded,
        seconds=time.monotonic() - started,
    )
