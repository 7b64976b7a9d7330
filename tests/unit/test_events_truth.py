"""``cprbroker events`` against the synthetic generator's ground truth.

The generator computes, independently of :mod:`cprbroker.core.events`, the
events catalogue v1 demands for each delta (``<delta>.truth.jsonl``). Over
several days of a small population, the derivation must give exactly those
events (compared as multisets of the keys both sides carry).
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from cprbroker.cli import main
from cprbroker.synth.writer import SynthSettings, generate

KEYS = (
    "pnr",
    "type",
    "cpr_event_code",
    "derived_mark",
    "municipality_before",
    "municipality_after",
)

Key = tuple[str | None, ...]


def _multiset(lines: list[str]) -> collections.Counter[Key]:
    return collections.Counter(tuple(json.loads(line)[k] for k in KEYS) for line in lines if line)


@pytest.mark.parametrize(("persons", "days", "seed"), [(300, 6, "truth-a"), (600, 8, "truth-b")])
def test_events_equal_the_ground_truth_day_by_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], persons: int, days: int, seed: str
) -> None:
    report = generate(SynthSettings(persons=persons, days=days, seed=seed, out=tmp_path / "cpr"))
    full, *deltas = report.files
    state = tmp_path / "state"
    assert main(["events", "--state-dir", str(state), "--full", str(full)]) == 0
    capsys.readouterr()
    compared = 0
    for delta in deltas:
        assert main(["events", "--state-dir", str(state), str(delta)]) == 0
        ours = _multiset(capsys.readouterr().out.splitlines())
        truth_path = delta.with_name(delta.name + ".truth.jsonl")
        truth = _multiset(truth_path.read_text(encoding="utf-8").splitlines())
        missing = sorted((truth - ours).elements(), key=str)
        extra = sorted((ours - truth).elements(), key=str)
        assert (missing, extra) == ([], []), f"{delta.name}: (missing, extra from ours)"
        compared += truth.total()
    # The population must actually have lived: enough events to mean something.
    assert compared >= days * 2
