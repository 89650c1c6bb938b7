"""The cluster benchmark runs in smoke mode and reports the keys the issue names."""

from __future__ import annotations

import pytest

from bench.__main__ import BENCHMARKS, run_one

pytestmark = [pytest.mark.postgresql, pytest.mark.slow, pytest.mark.timeout(170)]


def test_cluster_bench_smoke() -> None:
    result = run_one("cluster", smoke=True)
    assert BENCHMARKS["cluster"] == "bench.cluster"
    metrics, ratios = result["metrics"], result["ratios"]
    assert ratios["forwarded_vs_local_http_p50"] > 0
    assert metrics["killed_node_all_back_s"] > 0
    assert metrics["killed_node_devices"] > 0
    assert sum(metrics["tunnels_per_node"].values()) == metrics["devices"] == 30
