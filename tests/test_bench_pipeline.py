"""The pipeline benchmark runs in its small mode against the test broker, so
it never rots."""

from __future__ import annotations

import re

import pytest
from bench import pipeline as bench_pipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _number(pattern: str, out: str) -> float:
    found = re.search(pattern, out)
    assert found, f"no {pattern!r} in:\n{out}"
    return float(found.group(1).replace(",", ""))


@pytest.mark.timeout(900)
def test_small_mode_prints_figures_beside_the_baseline(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench_pipeline.main(["--small", "--bootstrap-servers", kafka_bootstrap]) == 0
    out = capsys.readouterr().out
    assert "input: 5,000 persons, 2 deltas" in out
    assert "2 processor(s)" in out
    assert _number(r"initial load: ([\d,]+) persons/s", out) > 0
    assert _number(r"deltas one at a time \(median\): ([\d,]+) persons/s", out) > 0
    assert _number(r"deltas back to back \(1 files, .*\): ([\d,]+) persons/s", out) > 0
    baselines = re.findall(r"baseline \(aiokafka produce, .*\): ([\d,]+) messages/s", out)
    ratios = re.findall(r"ratio: ([\d.]+)", out)
    assert len(baselines) == 2
    assert len(ratios) == 2
    assert all(float(ratio) > 0 for ratio in ratios)
    assert _number(r"faust floor \(.*\): ([\d,]+) messages/s per process", out) > 0
