"""The inbox's folders and files: where things go, which files are complete,
how a file's place in the sequence is read (its 000 record), and how files
are moved aside. The watcher (:mod:`cprbroker.ingest.inbox`) does the rest."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from cprbroker.core.cpr.framing import parse_start
from cprbroker.core.errors import FramingError, SettingsError
from cprbroker.core.events.sequence import FileMark
from cprbroker.core.ports import check_port

ENV_PREFIX = "CPRBROKER_"
DEFAULT_HEALTH_PORT = 9110
IGNORED_SUFFIXES = (".part", ".tmp", ".partial")
REASON_SUFFIX = ".reason.txt"
_START_BYTES = 4096  # the 000 record is far shorter; its line ends before this


@dataclass(frozen=True, slots=True)
class InboxSettings:
    """Where the inbox is and how patient the watcher is (seconds).

    ``cprbroker ingest --watch`` serves ``/healthz``, ``/readyz`` and
    ``/status`` on ``health_host:health_port`` (None: not served); the watcher
    counts as stalled, and ``/healthz`` answers 503, when it has made no
    progress (a scan, a person published) for ``stall_seconds``.
    """

    root: Path = Path("var/inbox")
    poll_seconds: float = 1.0
    settle_seconds: float = 1.0
    gap_wait_seconds: float = 60.0
    retry_seconds: float = 5.0
    health_host: str = "127.0.0.1"
    health_port: int | None = DEFAULT_HEALTH_PORT
    stall_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.poll_seconds <= 0 or self.retry_seconds <= 0:
            raise SettingsError("inbox poll and retry intervals must be positive")
        if self.settle_seconds < 0 or self.gap_wait_seconds < 0:
            raise SettingsError("inbox settle and gap waits must not be negative")
        check_port("inbox health port", self.health_port)
        if self.stall_seconds <= max(self.poll_seconds, self.retry_seconds):
            raise SettingsError(
                f"inbox stall time ({self.stall_seconds:g} s) must be longer than its poll and"
                f" retry intervals ({self.poll_seconds:g} s, {self.retry_seconds:g} s)"
            )

    @property
    def full(self) -> Path:
        """Where full extracts are dropped."""
        return self.root / "full"

    @property
    def processed(self) -> Path:
        """Where published files go."""
        return self.root / "processed"

    @property
    def rejected(self) -> Path:
        """Where refused files go, beside their reason files."""
        return self.root / "rejected"

    def with_environ(self, environ: Mapping[str, str]) -> InboxSettings:
        """These settings overridden by ``CPRBROKER_INBOX`` (the folder),
        ``CPRBROKER_INBOX_SETTLE``, ``CPRBROKER_INBOX_GAP_WAIT``,
        ``CPRBROKER_INBOX_POLL``, ``CPRBROKER_INBOX_STALL`` (seconds),
        ``CPRBROKER_INBOX_HEALTH_HOST`` and ``CPRBROKER_INBOX_HEALTH_PORT``
        (``off``: none). SettingsError names a bad variable."""
        changes: dict[str, object] = {}
        if folder := environ.get(ENV_PREFIX + "INBOX", "").strip():
            changes["root"] = Path(folder)
        if host := environ.get(ENV_PREFIX + "INBOX_HEALTH_HOST", "").strip():
            changes["health_host"] = host
        port_name = ENV_PREFIX + "INBOX_HEALTH_PORT"
        if port := environ.get(port_name, "").strip():
            try:
                changes["health_port"] = None if port.lower() == "off" else int(port)
            except ValueError as exc:
                raise SettingsError(
                    f"{port_name} must be a port number or off, got {port!r}"
                ) from exc
        for suffix, attribute in (
            ("SETTLE", "settle_seconds"),
            ("GAP_WAIT", "gap_wait_seconds"),
            ("POLL", "poll_seconds"),
            ("STALL", "stall_seconds"),
        ):
            name = f"{ENV_PREFIX}INBOX_{suffix}"
            if raw := environ.get(name, "").strip():
                try:
                    changes[attribute] = float(raw)
                except ValueError as exc:
                    raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from exc
        return replace(self, **changes)  # type: ignore[arg-type]

    def create(self) -> None:
        """Create the inbox folders that are missing."""
        for folder in (self.root, self.full, self.processed, self.rejected):
            folder.mkdir(parents=True, exist_ok=True)


class Rejection(enum.Enum):
    """Why a file went to ``rejected/``."""

    FRAMING = "framing error"
    GAP = "gap"
    REPEAT = "repeat"
    OUT_OF_ORDER = "out of order"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class Arrival:
    """A complete file in the inbox, with its 000 record if that could be read."""

    path: Path
    full: bool
    ready_since: float
    mark: FileMark | None

    def order(self) -> tuple[int, str, int, str]:
        """Sort key: unreadable 000 first (they are refused at once), then
        production date, a full extract before a delta of the same date."""
        if self.mark is None:
            return (0, "", 0, self.path.name)
        return (1, self.mark.production_date, 0 if self.full else 1, self.path.name)


def read_mark(path: Path) -> FileMark | None:
    """The file mark of ``path`` from its 000 record; None if it cannot be read."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_START_BYTES)
    except OSError:
        return None
    first = head.split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1")
    try:
        start = parse_start(first, str(path))
    except FramingError:
        return None
    previous = start.previous_production_date
    return FileMark(
        start.opgavenr,
        start.production_date.isoformat(),
        previous.isoformat() if previous is not None else None,
    )


def complete_name(name: str) -> bool:
    """Whether a file of this name may be taken (not hidden, not being written)."""
    return not name.startswith(".") and not name.endswith(IGNORED_SUFFIXES)


def move_aside(path: Path, folder: Path) -> Path:
    """Move ``path`` into ``folder`` under its own name, or ``<name>.1``,
    ``<name>.2``, ... when that is taken (a file dropped twice keeps both)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    number = 0
    while target.exists() or target.with_name(target.name + REASON_SUFFIX).exists():
        number += 1
        target = folder / f"{path.name}.{number}"
    path.replace(target)
    return target
