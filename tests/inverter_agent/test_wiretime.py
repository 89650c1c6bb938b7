"""Wire-time arithmetic, checked against numbers worked out by hand."""

from __future__ import annotations

import pytest

from inverter_agent.config import BusConfig, BusKind, Parity
from inverter_agent.wiretime import BusTiming, read_sizes, request_time, requests_time


def test_rtu_9600_8e1_one_inverter_model() -> None:
    # 8 + 5 + 100 = 113 bytes of 11 bits at 9600 baud = 129.479 ms,
    # two t3.5 gaps of 3.5 x 11 / 9600 = 8.021 ms, turnaround 50 ms
    timing = BusTiming(kind=BusKind.RTU, baudrate=9600, parity=Parity.EVEN, turnaround_s=0.05)
    assert request_time(timing, 50) == pytest.approx(0.129479 + 0.008021 + 0.05, abs=1e-6)


def test_rtu_no_parity_uses_ten_bits() -> None:
    timing = BusTiming(kind=BusKind.RTU, baudrate=19200, parity=Parity.NONE, turnaround_s=0)
    # 15 bytes x 10 bits / 19200 = 7.8125 ms; gaps 2 x 3.5 x 10 / 19200 = 3.6458 ms
    assert request_time(timing, 1) == pytest.approx(0.0078125 + 0.0036458, abs=1e-6)


def test_fast_rtu_uses_the_fixed_frame_gap() -> None:
    timing = BusTiming(kind=BusKind.RTU, baudrate=115200, parity=Parity.NONE, turnaround_s=0)
    assert timing.frame_gap_s == 0.00175
    assert request_time(timing, 1) == pytest.approx(15 * 10 / 115200 + 0.0035, abs=1e-9)


def test_tcp_is_a_small_constant() -> None:
    timing = BusTiming.of(BusConfig(kind=BusKind.TCP, turnaround_s=0.01))
    assert request_time(timing, 1) == request_time(timing, 125) == pytest.approx(0.012)


def test_blocks_split_at_125() -> None:
    assert read_sizes(50) == [50]
    assert read_sizes(125) == [125]
    assert read_sizes(300) == [125, 125, 50]
    assert read_sizes(0) == []
    timing = BusTiming(kind=BusKind.RTU, baudrate=9600)
    assert requests_time(timing, [300]) == pytest.approx(
        2 * request_time(timing, 125) + request_time(timing, 50)
    )


@pytest.mark.parametrize("registers", [0, 126])
def test_one_request_reads_at_most_125(registers: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.125"):
        request_time(BusTiming(kind=BusKind.TCP), registers)
