"""The download's time split (bench/wan_gap.py): a pure function with literal numbers,
and the bench in smoke mode."""

from __future__ import annotations

import pytest

from bench.__main__ import BENCHMARKS, run_one
from bench.wan_gap import gaps, split


def test_split_adds_up_to_the_download_time() -> None:
    # 1,000 B/s, RTT 1 s: the request goes out at 0; 100 bytes of framing and 1,000 of
    # payload cross in chunks of 100 from 2 s, with one idle second after the first 500.
    chunks = [(2.0 + 0.1 * i, 100) for i in range(5)]
    chunks += [(3.5 + 0.1 * i, 100) for i in range(6)]
    chunks.append((0.5, 7))  # before the request: not the download's
    parts = split(1.0, 5.6, 1_000, chunks, rate=1_000.0, rtt=1.0)
    assert parts["start"] == pytest.approx(1.0)
    assert parts["payload"] == pytest.approx(1.0)
    assert parts["framing"] == pytest.approx(0.1)
    assert parts["idle"] == pytest.approx(1.0)
    assert parts["idle_first"] == pytest.approx(1.0)  # within RAMP round trips of the start
    assert parts["tail"] == pytest.approx(1.5)
    assert parts["wire_per_payload"] == pytest.approx(1.1)
    total = sum(parts[k] for k in ("start", "payload", "framing", "idle", "tail"))
    assert total == pytest.approx(parts["total"]) == pytest.approx(4.6)


def test_gaps_lists_the_idle_spells() -> None:
    chunks = [(0.0, 100), (0.1, 100), (0.5, 100), (0.6005, 100)]
    ((when, length),) = gaps(0.0, chunks, rate=1_000.0)  # the 0.5 ms one is below 1 ms
    assert when == pytest.approx(0.2)
    assert length == pytest.approx(0.3)


def test_wan_gap_bench_smoke() -> None:
    assert BENCHMARKS["tunnel-wan-gap"] == "bench.wan_gap"
    result = run_one("tunnel-wan-gap", smoke=True)
    metrics = result["metrics"]
    assert metrics["fibre_wire_per_payload_direct"] == 1.0
    assert 1.0 < metrics["fibre_wire_per_payload_tunnel"] < 1.01
    assert metrics["fibre_payload_ms_tunnel"] > 0
    assert result["ratios"]["fibre_download_vs_direct"] > 0
