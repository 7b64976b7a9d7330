"""The inbox watcher with the in-memory ingest state and person sink: files are
applied in production-date order whatever order they arrive in, complete
files only, and refused files go to ``rejected/`` with a reason file."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from cprbroker.adapters.ingest_state import InMemoryIngestState
from cprbroker.adapters.person_records_sink import InMemoryPersonSink
from cprbroker.ingest.inbox import (
    InboxSettings,
    InboxWatcher,
    Rejection,
    move_aside,
    read_mark,
)
from cprbroker.synth.writer import SynthSettings, file_name, generate, production_dates

START = dt.date(2024, 3, 4)
DAYS = 3


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small synthetic series: ``full`` and ``d1``..``d3``."""
    out = tmp_path_factory.mktemp("series")
    generate(SynthSettings(persons=60, days=DAYS, seed="inbox", out=out, start=START))
    files = {"full": out / file_name(START, "907001")}
    for number, day in enumerate(production_dates(START, DAYS), start=1):
        files[f"d{number}"] = out / file_name(day, "907001")
    return files


def watcher(
    root: Path, clock: Clock, state: InMemoryIngestState | None = None, **changes: float
) -> tuple[InboxWatcher, InMemoryIngestState, InMemoryPersonSink]:
    settings = InboxSettings(
        root=root,
        settle_seconds=changes.get("settle_seconds", 0.0),
        gap_wait_seconds=changes.get("gap_wait_seconds", 0.0),
        poll_seconds=0.05,
    )
    state = state if state is not None else InMemoryIngestState()
    sink = InMemoryPersonSink()
    return InboxWatcher(settings, state=state, sink=sink, clock=clock), state, sink


def drop(source: Path, folder: Path, *, mtime: float | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copyfile(source, target)
    if mtime is not None:
        os.utime(target, (mtime, mtime))
    return target


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


async def test_files_dropped_out_of_order_are_applied_by_production_date(
    tmp_path: Path, series: dict[str, Path]
) -> None:
    inbox, state, sink = watcher(tmp_path, Clock())
    # Newest first, and the newest with the oldest modification time.
    for age, name in enumerate(("d3", "d2", "d1")):
        drop(series[name], tmp_path, mtime=1_700_000_000 + age)
    drop(series["full"], tmp_path / "full", mtime=1_700_000_100)

    outcomes = await inbox.scan()

    assert [o.name for o in outcomes] == [series[n].name for n in ("full", "d1", "d2", "d3")]
    assert all(o.published for o in outcomes), [o.message for o in outcomes]
    assert outcomes[0].full
    assert not any(o.full for o in outcomes[1:])
    assert [m.production_date for m in state.history] == [
        START.isoformat(),
        *(d.isoformat() for d in production_dates(START, DAYS)),
    ]
    assert sum(o.persons for o in outcomes) == len(sink.persons)
    assert inbox.status.processed == 4
    assert inbox.status.persons_published == len(sink.persons)
    assert files_in(tmp_path / "processed") == sorted(p.name for p in series.values())
    assert files_in(tmp_path) == []
    assert files_in(tmp_path / "full") == []
    assert await inbox.scan() == []


async def test_incomplete_files_wait_until_their_size_settles(
    tmp_path: Path, series: dict[str, Path]
) -> None:
    clock = Clock()
    inbox, state, _ = watcher(tmp_path, clock, settle_seconds=2.0)
    drop(series["full"], tmp_path / "full")
    (tmp_path / "D240305.L907001.part").write_bytes(series["d1"].read_bytes()[:100])
    (tmp_path / ".hidden").write_bytes(b"not a CPR file")

    assert await inbox.scan() == []  # first sight: not settled yet
    clock.now += 1.0
    assert await inbox.scan() == []
    clock.now += 1.5
    outcomes = await inbox.scan()
    assert [o.name for o in outcomes] == [series["full"].name]
    assert state.last_applied() is not None

    # A file growing between scans starts its wait again.
    growing = tmp_path / series["d1"].name
    data = series["d1"].read_bytes()
    growing.write_bytes(data[: len(data) // 2])
    assert await inbox.scan() == []
    clock.now += 3.0
    with growing.open("ab") as handle:
        handle.write(data[len(data) // 2 :])
    os.utime(growing, (1_800_000_000, 1_800_000_000))
    assert await inbox.scan() == []
    clock.now += 3.0
    assert [o.name for o in await inbox.scan()] == [growing.name]
    # Ignored names stay where they are.
    assert (tmp_path / "D240305.L907001.part").exists()
    assert (tmp_path / ".hidden").exists()


async def test_a_framing_error_goes_to_rejected_with_its_reason(
    tmp_path: Path, series: dict[str, Path]
) -> None:
    inbox, state, sink = watcher(tmp_path, Clock())
    broken = tmp_path / "D240305.L907001"
    lines = series["d1"].read_bytes().split(b"\n")
    broken.write_bytes(b"\n".join(lines[:-2]) + b"\n")  # the 999 record is gone

    [outcome] = await inbox.scan()

    assert outcome.rejection is Rejection.FRAMING
    assert not outcome.published
    assert sink.persons == []
    assert state.last_applied() is None
    moved = tmp_path / "rejected" / broken.name
    assert moved.read_bytes() == b"\n".join(lines[:-2]) + b"\n"
    reason = (tmp_path / "rejected" / f"{broken.name}.reason.txt").read_text(encoding="utf-8")
    assert reason.splitlines()[0] == "framing error"
    assert broken.name in reason
    assert "999" in reason
    assert not broken.exists()


async def test_an_unreadable_start_record_is_rejected_before_others(
    tmp_path: Path, series: dict[str, Path]
) -> None:
    inbox, _, _ = watcher(tmp_path, Clock())
    (tmp_path / "notes.txt").write_text("not an extract\n", encoding="utf-8")
    drop(series["full"], tmp_path / "full")

    outcomes = await inbox.scan()

    assert [(o.name, o.published) for o in outcomes] == [
        ("notes.txt", False),
        (series["full"].name, True),
    ]
    assert outcomes[0].rejection is Rejection.FRAMING
    assert read_mark(tmp_path / "rejected" / "notes.txt") is None


async def test_a_gap_waits_for_the_missing_delta_then_is_refused(
    tmp_path: Path, series: dict[str, Path]
) -> None:
    clock = Clock()
    inbox, state, _ = watcher(tmp_path, clock, gap_wait_seconds=30.0)
    drop(series["full"], tmp_path / "full")
    assert len(await inbox.scan()) == 1
    published = len(state.history)

    drop(series["d2"], tmp_path)  # d1 is missing
    drop(series["d3"], tmp_path)
    assert await inbox.scan() == []
    clock.now += 10.0
    assert await inbox.scan() == []  # still within the wait: nothing moved
    assert (tmp_path / series["d2"].name).exists()

    clock.now += 25.0
    outcomes = await inbox.scan()
    assert [(o.name, o.rejection) for o in outcomes] == [
        (series["d2"].name, Rejection.GAP),
        (series["d3"].name, Rejection.GAP),
    ]
    assert len(state.history) == published
    reason = (tmp_path / "rejected" / f"{series['d2'].name}.reason.txt").read_text("utf-8")
    assert reason.startswith("gap\n")
    assert "PRODDTOFORRIG" in reason
    assert "--allow-gap" in reason


async def test_a_missing_delta_arriving_within_the_wait_unblocks_the_rest(
    tmp_path: Path, series: dict[str, Path]
) -> None:
    clock = Clock()
    inbox, _, _ = watcher(tmp_path, clock, gap_wait_seconds=30.0)
    drop(series["full"], tmp_path / "full")
    drop(series["d2"], tmp_path)
    assert [o.name for o in await inbox.scan()] == [series["full"].name]
    clock.now += 20.0
    drop(series["d1"], tmp_path)
    outcomes = await inbox.scan()
    assert [(o.name, o.published) for o in outcomes] == [
        (series["d1"].name, True),
        (series["d2"].name, True),
    ]


async def test_a_repeat_and_an_older_file_are_refused(
    tmp_path: Path, series: dict[str, Path]
) -> None:
    inbox, _state, sink = watcher(tmp_path, Clock())
    drop(series["full"], tmp_path / "full")
    drop(series["d1"], tmp_path)
    drop(series["d2"], tmp_path)
    assert len(await inbox.scan()) == 3
    persons = len(sink.persons)

    drop(series["d2"], tmp_path)  # again
    drop(series["d1"], tmp_path)  # older than the last applied
    outcomes = {o.name: o for o in await inbox.scan()}

    assert outcomes[series["d1"].name].rejection is Rejection.OUT_OF_ORDER
    assert outcomes[series["d2"].name].rejection is Rejection.REPEAT
    assert len(sink.persons) == persons
    rejected = tmp_path / "rejected"
    assert (rejected / f"{series['d2'].name}.reason.txt").read_text("utf-8").startswith("repeat")
    older = (rejected / f"{series['d1'].name}.reason.txt").read_text("utf-8")
    assert older.startswith("out of order")
    assert "older than" in older
    # The first copies stay in processed/.
    assert (tmp_path / "processed" / series["d2"].name).exists()


def test_move_aside_keeps_both_copies(tmp_path: Path) -> None:
    folder = tmp_path / "rejected"
    first = tmp_path / "a"
    first.write_text("1", encoding="utf-8")
    assert move_aside(first, folder) == folder / "a"
    second = tmp_path / "a"
    second.write_text("2", encoding="utf-8")
    assert move_aside(second, folder) == folder / "a.1"
    assert (folder / "a").read_text("utf-8") == "1"
    assert (folder / "a.1").read_text("utf-8") == "2"


async def test_run_stops_when_asked_and_takes_files_meanwhile(
    tmp_path: Path, series: dict[str, Path]
) -> None:
    inbox, state, _ = watcher(tmp_path, Clock())
    stop = asyncio.Event()
    task = asyncio.create_task(inbox.run(stop))
    drop(series["full"], tmp_path / "full")
    for _ in range(200):
        if state.last_applied() is not None:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    assert state.last_applied() is not None
    assert inbox.status.processed == 1
