"""The persisted job queue driven by a manual clock, across a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.scheduler import BillingScheduler
from cloud_gateway.billing.service import BillingService, Customer, OrderLine, RunReport
from cloud_gateway.config import BillingConfig
from cloud_gateway.store import Store
from tunnel.clock import ManualClock

SATELLITE = OrderLine(product="satellite-uplink", plan="monthly")


def _scheduler(store: Store, clock: ManualClock) -> BillingScheduler:
    repo = store.repo(BillingRepository)
    service = BillingService(repo, load_catalogues(), clock, BillingConfig())
    return BillingScheduler(service, repo, clock)


async def _active_contract(billing: BillingService, customer: Customer) -> None:
    placed = await billing.place_order(customer, [SATELLITE], key="o")
    await billing.wish_start(placed["order_id"], date(2026, 3, 1), key="w")
    await billing.confirm_reservation(placed["order_id"], "order_form", key="r")
    # confirmed and paid: activated, starting on the wished day
    await billing.record_payment(customer.account_id, 215152, "RF98PR202600001", key="p")


async def test_jobs_survive_a_restart_and_run_at_berlin_midnight(
    billing: BillingService, store: Store, customer: Customer, billing_clock: ManualClock
) -> None:
    await _active_contract(billing, customer)
    first = _scheduler(store, billing_clock)
    assert await first.run_due() == RunReport()  # 1 March 00:00 Berlin is still ahead
    billing_clock.set(datetime(2026, 2, 28, 23, 0, tzinfo=UTC))  # 1 March 00:00 in Berlin
    assert await first.run_due() == RunReport(documents=1)  # the first invoice
    # a new process: the next job (1 April, after the DST change: 22:00 UTC) is in the table
    second = _scheduler(store, billing_clock)
    billing_clock.set(datetime(2026, 3, 31, 21, 59, tzinfo=UTC))
    assert await second.run_due() == RunReport()
    billing_clock.set(datetime(2026, 3, 31, 22, 0, tzinfo=UTC))
    assert await second.run_due() == RunReport()  # month 2: nothing to bill, next job queued
    billing_clock.set(datetime(2026, 4, 30, 22, 0, tzinfo=UTC))  # 1 May: pro-forma month 4
    assert await second.run_due() == RunReport(documents=1)
    assert await second.run_due() == RunReport()
    assert await billing.run() == RunReport()


async def test_run_forever_wakes_when_the_clock_reaches_the_job(
    billing: BillingService, store: Store, customer: Customer, billing_clock: ManualClock
) -> None:
    await _active_contract(billing, customer)
    scheduler = _scheduler(store, billing_clock)
    task = asyncio.create_task(scheduler.run_forever())
    try:
        billing_clock.set(datetime(2026, 2, 28, 23, 0, tzinfo=UTC))
        reports = [await asyncio.wait_for(scheduler.reports.get(), 10)]
        while reports[-1] == RunReport():  # idle wake-ups before the job's instant
            billing_clock.set(datetime(2026, 2, 28, 23, 0, tzinfo=UTC))
            reports.append(await asyncio.wait_for(scheduler.reports.get(), 10))
        assert reports[-1] == RunReport(documents=1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await billing.run() == RunReport()
