"""The bus scheduler with in-memory inverters: skips, offline reporting, payloads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta

import pytest

from inverter_agent.config import BusKind, Parity
from inverter_agent.errors import DeviceTimeoutError
from inverter_agent.inverter import Discovery, Snapshot
from inverter_agent.readings import InverterInfo, Reading
from inverter_agent.scheduler import BusScheduler, InverterState
from inverter_agent.sunspec import (
    decode_common,
    decode_inverter,
    decode_nameplate,
    parse_chain,
)
from inverter_agent.wiretime import BusTiming, requests_time
from tests.inverter_agent.sunspec import images
from tests.inverter_agent.sunspec.images import data
from tunnel.clock import ManualClock

LAYOUT = parse_chain(images.IMAGE, base=images.BASE)


class FakeInverter:
    """Answers from the literal image at once, or fails while ``failing`` is set."""

    def __init__(self, unit_id: int) -> None:
        self.unit_id = unit_id
        self.discovery: Discovery | None = None
        self.failing = False
        self.polls = 0
        self.third_poll = asyncio.Event()

    async def poll(self) -> Snapshot:
        self.polls += 1
        if self.polls == 3:
            self.third_poll.set()
        if self.failing:
            raise DeviceTimeoutError(f"unit {self.unit_id}: no answer")
        if self.discovery is None:
            inverter = LAYOUT.find(103)
            assert inverter is not None
            self.discovery = Discovery(
                unit_id=self.unit_id,
                layout=LAYOUT,
                common=decode_common(data(images.COMMON)),
                nameplate=decode_nameplate(data(images.NAMEPLATE_120)),
                inverter=inverter,
                status=None,
                mppt=None,
            )
        return Snapshot(
            discovery=self.discovery,
            inverter=decode_inverter(103, data(images.INVERTER_103)),
            status=None,
            mppt=None,
        )

    def forget(self) -> None:
        self.discovery = None


class ListSink:
    def __init__(self) -> None:
        self.stored: list[Reading | InverterInfo] = []

    async def store(self, payloads: Sequence[Reading | InverterInfo]) -> None:
        self.stored += payloads


RTU_9600 = BusTiming(kind=BusKind.RTU, baudrate=9600, parity=Parity.EVEN, turnaround_s=0.05)


def scheduler(
    pollers: list[FakeInverter],
    sink: ListSink,
    clock: ManualClock,
    *,
    interval_s: float = 10.0,
    timing: BusTiming = RTU_9600,
) -> BusScheduler:
    return BusScheduler(
        name="rtu-test",
        pollers=pollers,
        timing=timing,
        interval_s=interval_s,
        timeout_cost_s=3.0,
        sink=sink,
        clock=clock,
    )


async def test_readings_and_info_carry_the_clock(clock: ManualClock) -> None:
    sink = ListSink()
    sched = scheduler([FakeInverter(1), FakeInverter(2)], sink, clock)
    report = await sched.run_cycle()
    assert (report.polled, report.failed, report.skipped) == ((1, 2), (), ())
    kinds = [type(p).__name__ for p in sink.stored]
    assert kinds == ["InverterInfo", "Reading", "InverterInfo", "Reading"]
    reading = sink.stored[1]
    assert isinstance(reading, Reading)
    assert (reading.sn, reading.unit, reading.ts, reading.w) == (
        "SN-0042",
        1,
        1768467600000,
        5000.0,
    )
    clock.advance(10)
    sink.stored.clear()
    await sched.run_cycle()
    assert [type(p).__name__ for p in sink.stored] == ["Reading", "Reading"]  # info once
    assert {h.state for h in sched.health()} == {InverterState.OK}
    assert [h.polls_ok for h in sched.health()] == [2, 2]


async def test_silent_inverter_goes_offline_and_others_keep_going(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    sink = ListSink()
    one, two = FakeInverter(1), FakeInverter(2)
    sched = scheduler([one, two], sink, clock)
    await sched.run_cycle()
    one.failing = True
    clock.advance(timedelta(seconds=10))
    with caplog.at_level(logging.WARNING, logger="inverter_agent.scheduler"):
        report = await sched.run_cycle()
    assert (report.polled, report.failed) == ((2,), (1,))
    health = sched.health()[0]
    assert health.state is InverterState.OFFLINE
    assert health.since == clock.now()
    assert health.last_error == "DeviceTimeoutError: unit 1: no answer"
    assert health.polls_failed == 1
    assert "unit 1: offline" in caplog.text
    assert sched.budget(one) == 3.0  # a timeout's cost while offline
    one.failing = False
    clock.advance(10)
    await sched.run_cycle()
    assert sched.health()[0].state is InverterState.OK
    assert sched.health()[0].since == clock.now()
    last_cycle = [type(p).__name__ for p in sink.stored[-3:]]
    assert last_cycle == ["InverterInfo", "Reading", "Reading"]  # unit 1 rediscovered


async def test_slow_bus_skips_polls_counts_them_and_rotates(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    pollers = [FakeInverter(u) for u in (1, 2, 3, 4)]
    sink = ListSink()
    sched = scheduler(pollers, sink, clock, interval_s=0.5)
    await sched.run_cycle()  # discovery budgets: about 0.52 s each, only one fits
    per_poll = requests_time(RTU_9600, [50])
    assert sched.budget(pollers[0]) == pytest.approx(per_poll)  # 0.1875 s: two fit into 0.5 s
    with caplog.at_level(logging.WARNING, logger="inverter_agent.scheduler"):
        report = await sched.run_cycle()
    assert report.skipped
    assert "bus too slow" in caplog.text
    total = [h.polls_skipped for h in sched.health()]
    assert sum(total) >= 3
    for _ in range(6):
        await sched.run_cycle()
    assert all(h.polls_ok >= 2 for h in sched.health())  # everybody gets a turn
    assert all(p.polls <= 8 for p in pollers)  # nothing queued up


async def test_fast_bus_never_skips(clock: ManualClock) -> None:
    pollers = [FakeInverter(u) for u in range(1, 11)]
    sched = scheduler(pollers, ListSink(), clock, timing=BusTiming(kind=BusKind.TCP))
    for _ in range(3):
        assert (await sched.run_cycle()).skipped == ()


async def test_run_polls_every_interval_until_cancelled(clock: ManualClock) -> None:
    sink = ListSink()
    poller = FakeInverter(1)
    sched = scheduler([poller], sink, clock, interval_s=0.01, timing=BusTiming(kind=BusKind.TCP))
    task = asyncio.create_task(sched.run())
    await poller.third_poll.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sum(isinstance(p, Reading) for p in sink.stored) >= 3
