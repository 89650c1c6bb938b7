"""The handshake benchmark runs in smoke mode and reports its per-node figures."""

from __future__ import annotations

import pytest

from bench.__main__ import BENCHMARKS, run_one

pytestmark = [pytest.mark.postgresql, pytest.mark.slow, pytest.mark.timeout(170)]


def test_handshake_bench_smoke() -> None:
    result = run_one("handshake", smoke=True)
    assert BENCHMARKS["handshake"] == "bench.handshake"
    metrics = result["metrics"]
    assert metrics["devices"] == 30
    assert metrics["handshakes_per_s"] > 0
    assert metrics["gateway_cpu_ms_per_handshake"] > 0
    assert metrics["refused_overloaded"] >= 0
