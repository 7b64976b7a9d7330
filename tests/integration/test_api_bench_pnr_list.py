"""The PNR-list benchmark runs in its small mode against the test broker, so it never rots."""

from __future__ import annotations

import re

import pytest
from bench import pnr_list as bench_pnr_list


@pytest.mark.slow
def test_small_mode_prints_figures_beside_the_baselines(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench_pnr_list.main(["--small", "--bootstrap-servers", kafka_bootstrap]) == 0
    out = capsys.readouterr().out
    assert "input: 20,000 PNRs on one subscription" in out
    for label in ("baseline (bare producer)", "API pnrs:batch", "baseline (bare consumer)"):
        figure = re.search(re.escape(label) + r"[^:]*:\s+([\d,]+)", out)
        assert figure, label
        assert int(figure.group(1).replace(",", "")) > 0
    assert re.search(r"ratio API/baseline time: [\d.]+x", out)
    assert re.search(r"ratio rebuild/baseline time: [\d.]+x", out)
