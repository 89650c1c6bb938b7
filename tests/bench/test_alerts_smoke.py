"""The alerts benchmark runs in smoke mode and reports every key the issue names."""

from __future__ import annotations

from bench.__main__ import BENCHMARKS, run_one


def test_alerts_bench_smoke() -> None:
    result = run_one("alerts", smoke=True)
    assert result["bench"] == "alerts"
    metrics, ratios = result["metrics"], result["ratios"]
    assert metrics["inverters"] == 200
    assert metrics["plants"] > 1
    for key in (
        "round_s_memory",
        "evaluate_s_memory",
        "ingest_s_memory",
        "daylight_ms_per_plant_day",
        "forecast_ms_per_plant_day",
    ):
        assert metrics[key] > 0, key
    assert metrics["evaluate_s_memory"] <= metrics["round_s_memory"]
    # the rounds against the store open the alerts the in-memory round holds
    for backend in ("sqlite", "postgresql"):
        assert metrics[f"round_s_{backend}"] > 0
        assert metrics[f"opened_{backend}"] == metrics["open_alerts"]
        assert metrics[f"ingest_alone_s_{backend}"] > 0
    assert 0 < ratios["ingest_during_round_vs_without"] <= ratios["ingest_with_alerts_vs_without"]
    assert ratios["round_memory_vs_goal"] > 0


def test_alerts_bench_is_registered() -> None:
    assert BENCHMARKS["alerts"] == "bench.alerts"
