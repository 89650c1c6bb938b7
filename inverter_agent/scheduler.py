"""Polling one bus: every inverter once per interval, skipping rather than queueing.

Each cycle (one poll interval) walks the bus's inverters in turn. Before a poll the scheduler
asks whether its wire-time budget (:mod:`inverter_agent.wiretime`) still fits into what is left
of the cycle; if not, the poll is skipped and counted, never carried into the next cycle. Time
spent is the larger of the measured time (``loop.time()``) and the budgets of the polls done, so
a bus that is too slow for its interval skips even when the devices happen to answer fast. The
next cycle starts with the first inverter skipped, so every inverter gets its turn, and a cycle
always runs at least one poll.

An inverter that does not answer is reported ``offline`` (with the error and since when); the
others keep going. Its budget is then what a timeout costs. Readings carry timestamps from the
injected :class:`~tunnel.clock.Clock`; an inverter's info payload is stored after each discovery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from inverter_agent.errors import AgentError
from inverter_agent.inverter import Discovery, Snapshot
from inverter_agent.readings import InverterInfo, Reading, build_info, build_reading
from inverter_agent.wiretime import BusTiming, requests_time
from tunnel.clock import Clock

__all__ = [
    "BusScheduler",
    "CycleReport",
    "InverterHealth",
    "InverterState",
    "Poller",
    "ReadingSink",
]

_LOGGER = logging.getLogger(__name__)

DISCOVERY_BLOCKS = (2, 2, 2, 2, 2, 66, 26, 50, 44)
"""A typical discovery (marker, headers, common, nameplate) plus first poll, for the budget."""


class InverterState(StrEnum):
    """How an inverter is doing."""

    UNKNOWN = "unknown"
    OK = "ok"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True, kw_only=True)
class InverterHealth:
    """The reported state of one inverter."""

    unit_id: int
    """Modbus unit id."""
    state: InverterState
    """ok, offline, or unknown before the first poll."""
    since: datetime | None
    """When the state was entered."""
    last_error: str | None = None
    """The last failure, when offline."""
    serial: str | None = None
    """Serial number once discovered."""
    polls_ok: int = 0
    """Polls that produced a stored reading."""
    polls_failed: int = 0
    """Polls that failed."""
    polls_skipped: int = 0
    """Polls skipped because the bus had no time left in the cycle."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleReport:
    """What one cycle did."""

    polled: tuple[int, ...]
    """Unit ids polled successfully."""
    failed: tuple[int, ...]
    """Unit ids whose poll failed."""
    skipped: tuple[int, ...]
    """Unit ids skipped for lack of bus time."""


class Poller(Protocol):
    """One inverter as the scheduler sees it (:class:`~inverter_agent.inverter.SunSpecInverter`)."""

    unit_id: int
    discovery: Discovery | None

    async def poll(self) -> Snapshot: ...

    def forget(self) -> None: ...


class ReadingSink(Protocol):
    """Where readings go (:class:`~inverter_agent.outbox.OutboxSink`)."""

    async def store(self, payloads: Sequence[Reading | InverterInfo]) -> None: ...


class BusScheduler:
    """Polls the inverters of one bus."""

    def __init__(
        self,
        *,
        name: str,
        pollers: Sequence[Poller],
        timing: BusTiming,
        interval_s: float,
        timeout_cost_s: float,
        sink: ReadingSink,
        clock: Clock,
    ) -> None:
        self._name = name
        self._pollers = list(pollers)
        self._timing = timing
        self._interval = interval_s
        self._timeout_cost = timeout_cost_s
        self._sink = sink
        self._clock = clock
        self._health = {
            p.unit_id: InverterHealth(unit_id=p.unit_id, state=InverterState.UNKNOWN, since=None)
            for p in pollers
        }
        self._start_index = 0
        self._skipping = False

    def health(self) -> tuple[InverterHealth, ...]:
        return tuple(self._health[p.unit_id] for p in self._pollers)

    def budget(self, poller: Poller) -> float:
        """Wire-time budget of the next poll of ``poller``."""
        if self._health[poller.unit_id].state is InverterState.OFFLINE:
            return self._timeout_cost
        if poller.discovery is None:
            return requests_time(self._timing, DISCOVERY_BLOCKS)
        return requests_time(self._timing, poller.discovery.poll_blocks)

    async def run(self) -> None:
        """Poll forever, one cycle per interval; cancel to stop."""
        loop = asyncio.get_running_loop()
        cycle_start = loop.time()
        while True:
            await self.run_cycle(cycle_start)
            cycle_start += self._interval
            now = loop.time()
            cycle_start = max(cycle_start, now)  # after an overrun: start afresh, no catch-up
            await asyncio.sleep(cycle_start - now)

    async def run_cycle(self, cycle_start: float | None = None) -> CycleReport:
        """One pass over the inverters within one interval."""
        loop = asyncio.get_running_loop()
        start = loop.time() if cycle_start is None else cycle_start
        count = len(self._pollers)
        order = [self._pollers[(self._start_index + i) % count] for i in range(count)]
        spent_budget = 0.0
        polled: list[int] = []
        failed: list[int] = []
        skipped: list[int] = []
        payloads: list[Reading | InverterInfo] = []
        for poller in order:
            budget = self.budget(poller)
            spent = max(loop.time() - start, spent_budget)
            if (polled or failed) and spent + budget > self._interval:
                skipped.append(poller.unit_id)
                self._count(poller.unit_id, polls_skipped=1)
                continue
            spent_budget += budget
            payload = await self._poll(poller)
            if payload is None:
                failed.append(poller.unit_id)
            else:
                polled.append(poller.unit_id)
                payloads += payload
        if payloads:
            await self._sink.store(payloads)
        for unit in polled:
            self._count(unit, polls_ok=1)
        self._report_skips(skipped)
        if skipped:
            self._start_index = self._pollers.index(
                next(p for p in self._pollers if p.unit_id == skipped[0])
            )
        return CycleReport(polled=tuple(polled), failed=tuple(failed), skipped=tuple(skipped))

    async def _poll(self, poller: Poller) -> list[Reading | InverterInfo] | None:
        known = poller.discovery
        try:
            snapshot = await poller.poll()
        except AgentError as exc:
            self._count(poller.unit_id, polls_failed=1)
            self._set_state(poller.unit_id, InverterState.OFFLINE, f"{type(exc).__name__}: {exc}")
            poller.forget()
            return None
        now = self._clock.now()
        found = snapshot.discovery
        payloads: list[Reading | InverterInfo] = []
        if found is not known:
            payloads.append(
                build_info(
                    unit=found.unit_id,
                    common=found.common,
                    layout=found.layout,
                    nameplate=found.nameplate,
                    at=now,
                )
            )
        payloads.append(
            build_reading(
                unit=found.unit_id,
                common=found.common,
                inverter=snapshot.inverter,
                status=snapshot.status,
                mppt=snapshot.mppt,
                at=now,
            )
        )
        self._set_state(poller.unit_id, InverterState.OK, None, serial=found.common.serial)
        return payloads

    def _set_state(
        self, unit: int, state: InverterState, error: str | None, serial: str | None = None
    ) -> None:
        health = self._health[unit]
        if health.state is not state:
            if state is InverterState.OFFLINE:
                _LOGGER.warning("%s unit %d: offline: %s", self._name, unit, error)
            elif health.state is InverterState.OFFLINE:
                _LOGGER.info("%s unit %d: answering again", self._name, unit)
            health = replace(health, state=state, since=self._clock.now())
        self._health[unit] = replace(
            health,
            last_error=error if error is not None else health.last_error,
            serial=serial if serial is not None else health.serial,
        )

    def _count(self, unit: int, **increments: int) -> None:
        health = self._health[unit]
        changes = {key: getattr(health, key) + n for key, n in increments.items()}
        self._health[unit] = replace(health, **changes)

    def _report_skips(self, skipped: list[int]) -> None:
        if skipped and not self._skipping:
            _LOGGER.warning(
                "%s: bus too slow for a %.1f s interval, skipped polls of units %s",
                self._name,
                self._interval,
                skipped,
            )
        elif not skipped and self._skipping:
            _LOGGER.info("%s: all inverters polled within the interval again", self._name)
        self._skipping = bool(skipped)
