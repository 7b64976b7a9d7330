"""The delivery benchmark runs in its small mode against the test Kafka, so it never rots."""

from __future__ import annotations

import re

import pytest
from bench import delivery as bench_delivery

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.timeout(900)
def test_small_mode_prints_figures_beside_the_baseline(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench_delivery.main(["--small", "--bootstrap", kafka_bootstrap]) == 0
    out = capsys.readouterr().out
    assert "events per count: 300 at once, then 100/s for 0.5 s (warm-up) and 2 s (measured)" in out
    rows = re.findall(
        r"^\s*(\d+)\s+([\d,]+)\s+([\d,]+)\s+([\d.]+) \|\s+([\d,]+)\s+(\d+)\s+(\d+)\s+(\d+)/(\d+)"
        r" \| ([\d.]+)/([\d.]+)$",
        out,
        re.MULTILINE,
    )
    assert [int(row[0]) for row in rows] == [1, 10]
    for _, delivered, baseline, ratio, _, p50, p99, _, _, cpu, baseline_cpu in rows:
        assert float(cpu) > 0
        assert float(baseline_cpu) > 0
        assert int(delivered.replace(",", "")) > 0
        assert int(baseline.replace(",", "")) > 0
        assert float(ratio) > 0
        assert int(p50) <= int(p99)
    assert "targets: ratio >= 0.50; p99 < 250 ms at 1,000 events/s" in out
