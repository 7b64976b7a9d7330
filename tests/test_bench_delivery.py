"""The delivery benchmark runs in its small mode against the test Kafka, so it never
rots, and refuses bad arguments before it starts anything."""

from __future__ import annotations

import re

import pytest
from bench import delivery as bench_delivery


@pytest.mark.integration
@pytest.mark.slow
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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--warm-up", "-1"], "--warm-up must not be negative, got -1"),
        (["--processes", "0"], "--processes must be at least 1"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench_delivery.main([*args, "--bootstrap", "127.0.0.1:1"])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
