"""The shop benchmark in smoke size: both parts run on both backends and report the keys the
issue names (the camt part raises unless every credit settled its pro-forma, the checkout part
unless every buyer reached its order page and every order is paid and active), the checkout
through the PSP and, as a second leg, through PayPal."""

from __future__ import annotations

import pytest

from bench.__main__ import BENCHMARKS, run_one

pytestmark = [pytest.mark.postgresql, pytest.mark.slow, pytest.mark.timeout(170)]


def test_shop_bench_smoke() -> None:
    result = run_one("shop", smoke=True)
    assert BENCHMARKS["shop"] == "bench.shop"
    metrics, ratios = result["metrics"], result["ratios"]
    assert metrics["checkout_p99_ms"] > 0
    assert metrics["statements_per_checkout_sqlite"] > 0
    assert metrics["statements_per_checkout_postgresql"] > 0
    assert metrics["paypal_checkout_p99_ms_sqlite"] > 0  # the second leg: hub package, PayPal
    assert metrics["paypal_checkout_p99_ms_postgresql"] > 0
    assert metrics["camt_import_s_sqlite"] > 0
    assert metrics["camt_import_s_postgresql"] > 0
    assert set(ratios) == {
        "checkout_p99_vs_goal_150ms",
        "camt_sqlite_vs_goal_10s",
        "camt_postgresql_vs_goal_10s",
    }
