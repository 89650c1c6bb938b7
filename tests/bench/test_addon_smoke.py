"""The add-on footprint benchmark runs in smoke mode and reports every key the issue names."""

from __future__ import annotations

import pytest

from bench.__main__ import BENCHMARKS, run_one
from bench._hubroot import hub_root_unavailable


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


def test_addon_bench_on_an_armhf_hub_root_smoke() -> None:
    """``python -m bench addon --arch armhf``: the guest's own memory, sizes, install time."""
    reason = hub_root_unavailable("armhf")
    if reason is not None:
        pytest.skip(reason)
    result = run_one("addon", smoke=True, arch="armhf")
    metrics, ratios = result["metrics"], result["ratios"]
    assert metrics["arch"] == "armhf"
    # a 32-bit guest's memory: more than an interpreter's few MiB, far below qemu's VmRSS
    assert 5 < metrics["idle_rss_mb"] < 60
    assert 0 < metrics["archive_mib"] < metrics["installed_mib"]
    assert 0 < metrics["start_s"] < metrics["install_to_tunnel_s"]
    for key in ("idle_rss_vs_goal", "archive_vs_goal", "install_vs_goal"):
        assert key in ratios
