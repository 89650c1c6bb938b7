"""The WAN bench runs in smoke mode (fibre profile, tiny sizes) and reports its keys."""

from __future__ import annotations

from bench.__main__ import BENCHMARKS, run_one
from bench.tunnel_wan import PROFILES


def test_tunnel_wan_bench_smoke() -> None:
    result = run_one("tunnel-wan", smoke=True)
    assert result["bench"] == "tunnel-wan"
    metrics, ratios = result["metrics"], result["ratios"]
    for key in (
        "download_vs_direct",
        "download_vs_ssh",
        "download_vs_snitun",
        "page_load_vs_direct",
        "page_during_backup_vs_idle",
    ):
        assert f"fibre_{key}" in ratios
    assert ratios["fibre_download_vs_direct"] > 0
    assert ratios["fibre_page_load_vs_direct"] > 0
    assert ratios["fibre_download_vs_snitun"] > 0
    assert "fibre_upload_mbit_s_snitun" not in metrics  # snitun channels cannot half-close
    for leg in ("direct", "tunnel", "tunnel_v1", "snitun"):
        assert metrics[f"fibre_download_mbit_s_{leg}"] > 0
        assert metrics[f"fibre_page_ms_{leg}"] > 0
    # The link's self-check: it never beats its own figures (delay is added, the rate
    # is a ceiling), whatever the machine's load.
    fibre = PROFILES["fibre"]
    assert metrics["fibre_echo_p50_ms_direct"] >= fibre.rtt * 1e3
    assert metrics["fibre_link_down_vs_config"] <= 1.05
    assert metrics["fibre_page_ms_direct"] >= 2 * fibre.rtt * 1e3  # connect + request


def test_tunnel_wan_is_registered() -> None:
    assert BENCHMARKS["tunnel-wan"] == "bench.tunnel_wan"
