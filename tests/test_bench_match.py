"""The matching benchmark runs in its small mode, so it never rots."""

from __future__ import annotations

import re

import pytest
from bench import match as bench_match


def test_small_mode_prints_figures_beside_the_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_match.main(["--small"]) == 0
    out = capsys.readouterr().out
    assert "subscriptions: 500 (400 on PNR lists), list PNRs: 20,000" in out
    baseline = re.search(r"baseline \(naive loop over matches\(\)\): ([\d,]+) events/s", out)
    compiled = re.search(r"SubscriptionIndex\.match: ([\d,]+) events/s", out)
    ratio = re.search(r"ratio index/baseline: ([\d.]+)x", out)
    per_event = re.search(r"matches per event: ([\d.]+)", out)
    assert baseline
    assert compiled
    assert ratio
    assert per_event
    assert int(compiled.group(1).replace(",", "")) > 0
    assert float(ratio.group(1)) > 0
    # Every event matches at least the catch-alls.
    assert float(per_event.group(1)) >= 1


def test_list_sizes_stay_in_range_and_sum_to_the_total() -> None:
    import random

    sizes = bench_match.list_sizes(random.Random(7), 800, 100_000)
    assert sum(sizes) == 100_000
    assert min(sizes) >= 10
    assert max(sizes) <= 1000
