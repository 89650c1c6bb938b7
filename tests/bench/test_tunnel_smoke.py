"""The tunnel benchmarks run in smoke mode and report every key the issue names."""

from __future__ import annotations

from bench.__main__ import BENCHMARKS, run_one


def test_tunnel_bench_smoke() -> None:
    result = run_one("tunnel", smoke=True)
    assert result["bench"] == "tunnel"
    metrics, ratios = result["metrics"], result["ratios"]
    for key in ("throughput_vs_ssh", "rtt_p50_vs_ssh", "http_rtt_p50_vs_direct"):
        assert key in ratios
    assert ratios["throughput_vs_snitun"] > 0
    assert ratios["rtt_p50_vs_snitun"] > 0
    assert metrics["interactive_p99_ms"] > 0
    for path in ("direct", "tunnel", "snitun"):
        assert metrics[f"throughput_mib_s_{path}"] > 0
        assert metrics[f"rtt_p50_us_{path}"] > 0
    # The floor (the same two processes relaying with no protocol): echo only, with its CPU
    assert metrics["rtt_p50_us_floor"] > 0
    assert metrics["echo_cpu_us_floor"] > 0
    assert "throughput_mib_s_floor" not in metrics
    assert ratios["rtt_p50_vs_floor"] > 0
    if "ssh" in metrics:  # the ssh leg could not run here: it says why
        assert str(metrics["ssh"]).startswith("skipped:")
        assert ratios["throughput_vs_ssh"] is None
        assert ratios["rtt_p50_floor_vs_ssh"] is None
    else:
        assert ratios["throughput_vs_ssh"] > 0
        assert ratios["rtt_p50_vs_ssh"] > 0
        assert ratios["rtt_p50_floor_vs_ssh"] > 0


def test_tunnel_scale_bench_smoke() -> None:
    result = run_one("tunnel-scale", smoke=True)
    metrics = result["metrics"]
    for key in ("rss_per_tunnel_kib", "storm_all_back_s", "storm_max_second_share"):
        assert metrics[key] is not None
    assert metrics["tunnels"] == metrics["storm_tunnels_back"]


def test_tunnel_benchmarks_are_registered() -> None:
    assert BENCHMARKS["tunnel"] == "bench.tunnel"
    assert BENCHMARKS["tunnel-scale"] == "bench.tunnel_scale"
