"""The CPU clocks the benchmarks read from ``/proc``."""

from __future__ import annotations

import os
import time

from bench._procfs import cpu_seconds_fine


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_the_fine_clock_sees_less_than_one_tick() -> None:
    pid = os.getpid()
    before = cpu_seconds_fine(pid)
    _spin(0.002)  # a fifth of a 10 ms clock tick
    assert cpu_seconds_fine(pid) - before >= 0.0015


def test_the_fine_clock_agrees_with_the_process_clock() -> None:
    pid = os.getpid()
    fine, own = cpu_seconds_fine(pid), time.process_time()
    _spin(0.2)
    assert abs((cpu_seconds_fine(pid) - fine) - (time.process_time() - own)) < 0.01
