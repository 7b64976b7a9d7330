"""The parse benchmark runs in its small mode, so it never rots."""

from __future__ import annotations

import re

import pytest
from bench import parse as bench_parse


def test_small_mode_prints_figures_beside_the_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_parse.main(["--small"]) == 0
    out = capsys.readouterr().out
    assert "input: 2,000 persons, " in out
    baseline = re.search(r"baseline \(read \+ split lines\):\s+([\d,]+) records/s", out)
    parsed = re.search(r"parse_extract:\s+([\d,]+) records/s\s+([\d.,]+) MB/s", out)
    ratio = re.search(r"ratio parse/baseline time: ([\d.]+)x wall, ([\d.]+)x CPU", out)
    assert baseline
    assert parsed
    assert ratio
    assert int(parsed.group(1).replace(",", "")) > 0
    assert float(ratio.group(1)) > 0
