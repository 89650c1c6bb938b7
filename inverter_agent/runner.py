"""One bus in the running agent: its inverters, its scheduler, its cycle rhythm.

:class:`BusRunner` owns the cycle loop around :meth:`BusScheduler.run_cycle
<inverter_agent.scheduler.BusScheduler.run_cycle>` (the same rhythm as ``BusScheduler.run``:
one cycle per interval, no catch-up after an overrun) so that the agent can

* poll at once instead of waiting for the next cycle (:meth:`BusRunner.wake`, used after a
  CONTROL "resend configuration"), and
* change the poll interval without a restart (:meth:`BusRunner.set_interval`): the next
  cycle runs with a scheduler built for the new interval; the inverters and what discovery
  learnt are kept, the health counters start again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from inverter_agent.bus import ModbusBus
from inverter_agent.config import BusConfig
from inverter_agent.control import ResendConfiguration
from inverter_agent.inverter import SunSpecInverter
from inverter_agent.scheduler import BusScheduler, CycleReport, InverterHealth, ReadingSink
from inverter_agent.wiretime import BusTiming
from tunnel.clock import Clock

__all__ = ["BusRunner"]

_LOGGER = logging.getLogger(__name__)


class BusRunner:
    """Polls the inverters of one bus, cycle after cycle."""

    def __init__(self, config: BusConfig, bus: ModbusBus, sink: ReadingSink, clock: Clock) -> None:
        self.name = bus.name
        self.pollers = [SunSpecInverter(bus, unit) for unit in config.unit_ids]
        self.interval_s = config.poll_interval_s
        """The poll interval in force."""
        self.last_report: CycleReport | None = None
        """What the latest cycle did."""
        self.cycles = 0
        """Cycles run so far."""
        self._config = config
        self._sink = sink
        self._clock = clock
        self._scheduler = self._build()
        self._wake = asyncio.Event()
        self._cycle_done = asyncio.Event()

    def _build(self) -> BusScheduler:
        config = self._config
        return BusScheduler(
            name=self.name,
            pollers=self.pollers,
            timing=BusTiming.of(config),
            interval_s=self.interval_s,
            timeout_cost_s=config.timeout_s * (config.retries + 1),
            sink=self._sink,
            clock=self._clock,
        )

    def health(self) -> tuple[InverterHealth, ...]:
        return self._scheduler.health()

    def wake(self) -> None:
        """Start the next cycle now."""
        self._wake.set()

    def set_interval(self, interval_s: float) -> None:
        """Poll every ``interval_s`` seconds from the next cycle on."""
        if interval_s <= 0:
            raise ValueError("the poll interval must be positive")
        if interval_s != self.interval_s:
            _LOGGER.info(
                "%s: poll interval %.1f s -> %.1f s", self.name, self.interval_s, interval_s
            )
            self.interval_s = interval_s
            self.wake()

    def rediscover(self, request: ResendConfiguration) -> int:
        """Forget what discovery learnt about the inverters meant; they report again now."""
        count = 0
        for poller in self.pollers:
            found = poller.discovery
            if request.matches(poller.unit_id, found.common.serial if found else None):
                poller.forget()
                count += 1
        if count:
            self.wake()
        return count

    async def wait_cycles(self, total: int) -> CycleReport:
        """Wait until ``total`` cycles have run since the start; the latest one's report."""
        while True:
            report = self.last_report
            if self.cycles >= total and report is not None:
                return report
            self._cycle_done.clear()
            await self._cycle_done.wait()

    async def run(self) -> None:
        """Poll forever; cancel to stop."""
        loop = asyncio.get_running_loop()
        cycle_start = loop.time()
        interval = self.interval_s
        while True:
            if interval != self.interval_s:
                interval = self.interval_s
                self._scheduler = self._build()
            self._wake.clear()
            self.last_report = await self._scheduler.run_cycle(cycle_start)
            self.cycles += 1
            self._cycle_done.set()
            cycle_start += interval
            now = loop.time()
            cycle_start = max(cycle_start, now)  # after an overrun: start afresh, no catch-up
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(cycle_start - now):
                    await self._wake.wait()
                cycle_start = loop.time()  # woken: this cycle starts now
