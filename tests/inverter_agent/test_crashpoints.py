"""The crash hook: off by default, called at every point once installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inverter_agent import crashpoints
from inverter_agent.crashpoints import CrashPoint


@pytest.fixture
def seen() -> Iterator[list[CrashPoint]]:
    points: list[CrashPoint] = []
    crashpoints.install(points.append)
    try:
        yield points
    finally:
        crashpoints.install(None)


def test_off_by_default() -> None:
    crashpoints.reached(CrashPoint.APPEND)  # no hook: nothing happens


def test_installed_hook_sees_each_point(seen: list[CrashPoint]) -> None:
    for point in CrashPoint:
        crashpoints.reached(point)
    assert seen == list(CrashPoint)
    crashpoints.install(None)
    crashpoints.reached(CrashPoint.ACK)
    assert seen == list(CrashPoint)
