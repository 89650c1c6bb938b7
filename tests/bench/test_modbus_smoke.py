"""``python -m bench modbus`` in smoke mode: runs, and the RTU cycle stays near the wire limit."""

from __future__ import annotations

import pytest

from bench import modbus
from bench.__main__ import BENCHMARKS, run_one
from inverter_agent.sunspec import ModelBlock
from inverter_agent.wiretime import request_time, requests_time


def test_modbus_bench_smoke() -> None:
    assert BENCHMARKS["modbus"] == "bench.modbus"
    result = run_one("modbus", smoke=True)
    assert result["bench"] == "modbus"
    metrics, ratios = result["metrics"], result["ratios"]
    assert metrics["inverters"] == 2
    assert metrics["tcp_scan_ms"] > 0
    assert metrics["rtu_wire_limit_s"] <= metrics["rtu_agent_reads_wire_s"]
    assert 0.9 <= ratios["rtu_cycle_vs_wire_limit"] <= 1.15


def test_wire_limit_merges_adjacent_blocks_only_when_cheaper() -> None:
    # The simulator's model 103 map: 103 at 40070 (L=50), 120 at 40122 (L=26, static),
    # 122 at 40150 (L=44), 160 at 40196 (L=48).
    inverter = ModelBlock(model_id=103, address=40070, length=50)
    status = ModelBlock(model_id=122, address=40150, length=44)
    mppt = ModelBlock(model_id=160, address=40196, length=48)
    limit = modbus.wire_limit(modbus.LINE, (inverter, status, mppt))
    # 122 and 160 are two header registers apart: one request of 94 is cheaper than two;
    # 103 is 28 nameplate registers away: its own request is cheaper than reading across.
    assert limit == pytest.approx(request_time(modbus.LINE, 50) + request_time(modbus.LINE, 94))
    assert limit < requests_time(modbus.LINE, (50, 44, 48))
    assert modbus.wire_limit(modbus.LINE, (inverter, None, None)) == request_time(modbus.LINE, 50)
