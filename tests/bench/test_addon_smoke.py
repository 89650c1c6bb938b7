"""The add-on footprint benchmark runs in smoke mode and reports every key the issue names."""

from __future__ import annotations

from bench.__main__ import BENCHMARKS, run_one


def test_addon_bench_smoke() -> None:
    result = run_one("addon", smoke=True)
    assert result["bench"] == "addon"
    metrics, ratios = result["metrics"], result["ratios"]
    for key in (
        "idle_rss_mb",
        "idle_pss_mb",
        "idle_uss_mb",
        "idle_anon_mb",
        "idle_cpu_pct",
        "bytes_written_per_hour",
        "bare_python_rss_mb",
        "bare_aiohttp_rss_mb",
    ):
        assert key in metrics
    assert 0 < metrics["idle_uss_mb"] <= metrics["idle_pss_mb"] <= metrics["idle_rss_mb"]
    # enrolled in the measured process, then restarted: the idle daemon runs without it
    assert metrics["cryptography_mapped"] is False
    for key in ("rss_vs_bare_python", "idle_rss_vs_limit", "idle_cpu_vs_limit"):
        assert key in ratios


def test_addon_bench_is_registered() -> None:
    assert BENCHMARKS["addon"] == "bench.addon"
