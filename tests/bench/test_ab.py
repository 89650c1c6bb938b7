"""``bench.ab``: which way a metric is better, and the "new is better by" ratio of medians."""

from __future__ import annotations

import pytest

from bench.ab import compare, direction, parser


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("throughput_mib_s_tunnel", 1),
        ("readings_per_s_postgresql", 1),
        ("rtt_p50_us_tunnel", -1),
        ("http_rtt_p99_ms_remote", -1),
        ("gateway_cpu_us_per_reading_sqlite", -1),
        ("camt_import_s", -1),
        ("camt_import_s_postgresql", -1),
        ("killed_node_all_back_s", -1),
        ("interactive_samples_tunnel", 0),
        ("load_average", 0),
        ("readings", 0),
    ],
)
def test_direction_is_read_from_the_name(name: str, expected: int) -> None:
    assert direction(name) == expected


def test_compare_takes_medians_and_reports_how_much_better_new_is() -> None:
    old = [
        {"throughput_mib_s_tunnel": 100.0, "rtt_p50_us_tunnel": 200.0, "readings": 5},
        {"throughput_mib_s_tunnel": 300.0, "rtt_p50_us_tunnel": 400.0, "readings": 5},
        {"throughput_mib_s_tunnel": 200.0, "rtt_p50_us_tunnel": 300.0, "readings": 5},
    ]
    new = [
        {"throughput_mib_s_tunnel": 100.0, "rtt_p50_us_tunnel": 150.0, "readings": 9},
        {"throughput_mib_s_tunnel": 100.0, "rtt_p50_us_tunnel": 150.0, "readings": 9},
        {"throughput_mib_s_tunnel": 999.0, "rtt_p50_us_tunnel": 150.0, "readings": 9},
    ]
    # medians: throughput 200 -> 100 (half as good), echo 300 -> 150 us (twice as good)
    assert compare(old, new) == {"throughput_mib_s_tunnel": 0.5, "rtt_p50_us_tunnel": 2.0}


def test_compare_leaves_out_baselines_and_metrics_one_side_lacks() -> None:
    old = [{"throughput_mib_s_direct": 10.0, "rtt_p50_us_ssh": 5.0, "raw_per_s_sqlite": 1.0}]
    new = [
        {
            "throughput_mib_s_direct": 20.0,
            "rtt_p50_us_ssh": 5.0,
            "raw_per_s_sqlite": 1.0,
            "rtt_p50_us_snitun": 3.0,
        }
    ]
    assert compare(old, new) == {}


def test_options_may_stand_between_the_commit_and_the_benchmark_names() -> None:
    args = parser().parse_intermixed_args(["abc^", "--new", "def", "tunnel", "ingest"])
    assert (args.ref, args.new, args.names, args.rounds) == ("abc^", "def", ["tunnel", "ingest"], 2)
    assert parser().parse_intermixed_args(["abc"]).names == ["tunnel", "ingest"]
