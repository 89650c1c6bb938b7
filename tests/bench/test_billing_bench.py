"""``python -m bench billing`` in smoke mode: both backends bill every contract once."""

from __future__ import annotations

from bench.__main__ import BENCHMARKS, run_one


def test_billing_bench_smoke() -> None:
    assert BENCHMARKS["billing"] == "bench.billing"
    result = run_one("billing", smoke=True)
    assert result["bench"] == "billing"
    metrics = result["metrics"]
    assert metrics["contracts"] == 300
    assert metrics["run_s_sqlite"] > 0
    assert metrics["run_s_postgresql"] > 0
    assert 0 < result["ratios"]["run_s_sqlite_vs_limit_30s"] < 1
