"""The ingest benchmark runs in smoke mode on both backends and reports its keys."""

from __future__ import annotations

import pytest

from bench.__main__ import run_one


@pytest.mark.postgresql
def test_ingest_bench_smoke() -> None:
    result = run_one("ingest", smoke=True)
    assert result["bench"] == "ingest"
    metrics = result["metrics"]
    assert metrics["path"] == "tunnel"
    assert metrics["readings"] == (
        metrics["agents"] * metrics["readings_per_frame"] * metrics["frames_per_agent"]
    )
    for key in (
        "readings_per_s_sqlite",
        "readings_per_s_postgresql",
        "ack_p50_ms_sqlite",
        "ack_p50_ms_postgresql",
        "gateway_cpu_us_per_reading_sqlite",
        "gateway_cpu_us_per_reading_postgresql",
        "agents_cpu_us_per_reading_sqlite",
        "agents_cpu_us_per_reading_postgresql",
        "one_per_frame_readings_per_s_sqlite",
        "one_per_frame_readings_per_s_postgresql",
        "service_readings_per_s_sqlite",
        "service_readings_per_s_postgresql",
        "raw_per_s_sqlite",
        "raw_per_s_postgresql",
        "raw_copy_per_s_postgresql",
    ):
        assert metrics[key] > 0, key
    for key in (
        "sqlite_vs_raw",
        "postgresql_vs_raw",
        "postgresql_vs_raw_copy",
        "sqlite_tunnel_vs_service",
        "postgresql_tunnel_vs_service",
    ):
        assert result["ratios"][key] > 0, key
