"""The billing job queue's runner: wakes at each persisted effective date and runs billing.

Jobs (period starts, pro-forma days, ends) are rows in ``billing_jobs`` with the UTC instant of
their Berlin local midnight, so a restart loses none: the next runner finds them. A job is marked
done after its run committed; if the process dies in between, the job runs again and the billing
run, being idempotent, creates nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, RunReport
from cloud_gateway.errors import StoreError
from tunnel.clock import Clock

__all__ = ["BillingScheduler"]

_LOGGER = logging.getLogger(__name__)


class BillingScheduler:
    """Runs the billing run for the contracts whose jobs are due."""

    def __init__(
        self,
        service: BillingService,
        repository: BillingRepository,
        clock: Clock,
        *,
        idle: timedelta = timedelta(minutes=5),
    ) -> None:
        self._service = service
        self._repo = repository
        self._clock = clock
        self._idle = idle
        #: every finished run's report, for whoever wants to watch (tests, metrics)
        self.reports: asyncio.Queue[RunReport] = asyncio.Queue()

    async def run_due(self) -> RunReport:
        """Run billing for every contract with a due job; mark those jobs done."""
        now = self._clock.now()
        async with self._repo.transaction() as conn:
            jobs = await self._repo.due_jobs(conn, now)
        if not jobs:
            return RunReport()
        report = await self._service.run(sorted({contract for _, contract in jobs}))
        async with self._repo.transaction() as conn:
            await self._repo.finish_jobs(conn, [job for job, _ in jobs], now)
        _LOGGER.info("billing run for %d job(s): %s", len(jobs), report)
        return report

    async def run_forever(self) -> None:
        """Sleep until the next job (or ``idle``, to see jobs added meanwhile), run, repeat.

        A database fault is logged and the jobs stay due: the next pass (after ``idle``) runs
        them, and the run creates only what is missing, so nothing is lost or made twice.
        """
        while True:
            wake = self._clock.now() + self._idle
            try:
                async with self._repo.transaction() as conn:
                    due = await self._repo.next_job_at(conn)
                if due is not None and due < wake:
                    wake = due
                await self._clock.sleep_until(wake)
                self.reports.put_nowait(await self.run_due())
            except StoreError as exc:
                _LOGGER.warning("billing run failed, retrying in %s: %s", self._idle, exc)
                await self._clock.sleep_until(self._clock.now() + self._idle)
