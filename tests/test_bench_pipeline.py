"""The pipeline benchmark runs in its small mode against the test broker, so
it never rots."""

from __future__ import annotations

import re

import pytest
from bench import pipeline as bench_pipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.timeout(900)
def test_small_mode_prints_figures_beside_the_baseline(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench_pipeline.main(["--small", "--bootstrap-servers", kafka_bootstrap]) == 0
    out = capsys.readouterr().out
    assert "input: 5,000 persons, 1 deltas" in out
    load = re.search(r"initial load: ([\d,]+) persons/s", out)
    pipeline = re.search(r"pipeline \(delta files to events, median\): ([\d,]+) persons/s", out)
    baseline = re.search(r"baseline \(aiokafka produce, .*\): ([\d,]+) messages/s", out)
    ratio = re.search(r"ratio pipeline/baseline: ([\d.]+)", out)
    assert load
    assert pipeline
    assert baseline
    assert ratio
    assert int(load.group(1).replace(",", "")) > 0
    assert int(pipeline.group(1).replace(",", "")) > 0
    assert float(ratio.group(1)) > 0
