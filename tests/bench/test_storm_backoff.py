"""The storm model of bench/storm_backoff.py: seeded, so its figures are literal."""

from __future__ import annotations

from bench.__main__ import BENCHMARKS, run_one
from bench.storm_backoff import last_back


def test_a_busy_cap_of_30_s_brings_the_last_device_back_within_30_s_of_the_drain() -> None:
    """2,000 devices over 120 s to a node of 12 handshakes a second (drain 167 s)."""
    drain = 2_000 / 12
    for seed in range(3):
        now, _ = last_back(devices=2_000, rate=12.0, busy_cap=30.0, seed=seed)
        before, _ = last_back(devices=2_000, rate=12.0, busy_cap=300.0, seed=seed)
        assert drain <= now <= drain + 30.0
        assert before > drain + 150.0  # stragglers waiting out 300 s ceilings


def test_a_node_keeping_up_refuses_nobody() -> None:
    assert last_back(devices=1_000, rate=20.0, busy_cap=30.0, seed=0)[1] == 0


def test_the_model_runs_as_a_bench() -> None:
    assert BENCHMARKS["storm-backoff"] == "bench.storm_backoff"
    result = run_one("storm-backoff", smoke=True)
    assert 0 < result["ratios"]["last_back_cap_30_over_300_6_per_s"] < 1
