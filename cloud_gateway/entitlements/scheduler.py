"""Scheduled entitlement work: expiry reminders, window ends, retries.

Subscriptions renew in the billing run alone (its renewal pro-forma and mail, see
:meth:`cloud_gateway.billing.activation.Activation.renewals_offered`); nothing here orders.
:meth:`EntitlementScheduler.run_due` does one pass for the clock's current instant and is
idempotent (reminders carry dedup keys), so tests call it after moving the
:class:`~tunnel.clock.ManualClock`, and :meth:`run` calls it at every instant something may be
due: a window's end, the daily reminder hour, or at the latest every hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.entitlements.hub_rules import (
    REMINDER_LOCAL_TIME,
    ReminderKind,
    due_reminders,
)
from cloud_gateway.entitlements.repository import EntitlementRepository, StoredWindow
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import Subject, WindowKind
from cloud_gateway.i18n import Language
from cloud_gateway.localdays import local_date, local_instant
from cloud_gateway.notify.mail import Mail, MailKind
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.store import Store
from tunnel.clock import Clock

__all__ = ["EntitlementScheduler", "PassReport"]

_LOGGER = logging.getLogger(__name__)
_MAX_SLEEP = timedelta(hours=1)
#: windows that ended this long ago are still looked at (an expiry-day reminder after a stop)
_LOOKBACK = timedelta(days=7)

Job = Callable[[datetime], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one pass did."""

    reminders: int
    ended: int


def _language(code: str) -> Language:
    return Language(code) if code in {x.value for x in Language} else Language.DE


class EntitlementScheduler:
    """Runs the time-driven entitlement rules."""

    def __init__(
        self,
        store: Store,
        service: EntitlementService,
        outbox: Outbox,
        clock: Clock,
        *,
        jobs: Sequence[Job] = (),
    ) -> None:
        self._store = store
        self._service = service
        self._outbox = outbox
        self._clock = clock
        self._jobs: list[Job] = list(jobs)
        self._last_pass: datetime | None = None
        self._wake = asyncio.Event()

    def add_job(self, job: Job) -> None:
        """Run ``job(now)`` on every pass too (e.g. pending VAT ID checks)."""
        self._jobs.append(job)

    def wake(self) -> None:
        """Something changed: run a pass now."""
        self._wake.set()

    async def run_due(self) -> PassReport:
        """One idempotent pass at the clock's current instant."""
        now = self._clock.now()
        days_before = self._service.config.reminder_days_before
        candidates = await self._store.repo(EntitlementRepository).ending_between(
            now - _LOOKBACK, now + timedelta(days=days_before + 2)
        )
        packages = [
            s
            for s in candidates
            if s.subject is Subject.ACCOUNT and s.window.kind is WindowKind.PACKAGE
        ]
        reminders = 0
        for account_id in sorted({s.subject_id for s in packages}):
            mine = [s for s in packages if s.subject_id == account_id]
            reminders += await self._remind(account_id, mine, now)
        ended = await self._ended(now)
        for job in self._jobs:
            try:
                await job(now)
            except Exception:  # one failing job must not stop reminders and closes
                _LOGGER.exception("scheduled job %r failed", job)
        if reminders:
            self._outbox.wake()
        return PassReport(reminders=reminders, ended=ended)

    async def _remind(self, account_id: int, mine: list[StoredWindow], now: datetime) -> int:
        windows = await self._service.account_windows(account_id)
        ids = {s.id for s in mine}
        days_before = self._service.config.reminder_days_before
        due = [r for r in due_reminders(windows, now, days_before) if r.window.id in ids]
        if not due:
            return 0
        account = await self._store.repo(AccountRepository).get(account_id)
        products = {s.id: s.product for s in mine}
        sent = 0
        async with self._store.database.begin() as conn:
            for r in due:
                kind = (
                    MailKind.PACKAGE_REMINDER_BEFORE
                    if r.kind is ReminderKind.BEFORE
                    else MailKind.PACKAGE_REMINDER_DAY
                )
                mail = Mail(
                    to=account.email,
                    kind=kind,
                    language=_language(account.language),
                    params={
                        "username": account.username,
                        "product": products.get(r.window.id or 0, "") or "CloudConnector",
                        "expiry_day": r.expiry_day.strftime("%d.%m.%Y"),
                        "days": (r.expiry_day - r.day).days,
                    },
                )
                key = f"reminder:{r.window.id}:{r.kind.value}"
                if await self._outbox.put(conn, mail, now=now, dedup_key=key) is not None:
                    sent += 1
        return sent

    async def _ended(self, now: datetime) -> int:
        since = self._last_pass or now - timedelta(minutes=5)
        self._last_pass = now
        if since >= now:
            return 0
        ended = await self._store.repo(EntitlementRepository).ending_between(
            since, now + timedelta(microseconds=1)
        )
        ended = [s for s in ended if since <= s.window.effective_end <= now]
        await self._service.windows_ended(ended)
        return len(ended)

    async def next_wake(self, now: datetime) -> datetime:
        """The next instant a pass may have something to do."""
        candidates = [now + _MAX_SLEEP]
        next_end = await self._store.repo(EntitlementRepository).next_end_after(now)
        if next_end is not None:
            candidates.append(next_end)
        reminder_today = local_instant(local_date(now), REMINDER_LOCAL_TIME)
        if reminder_today > now:
            candidates.append(reminder_today)
        return min(candidates)

    async def run(self) -> None:
        """Pass after pass until cancelled."""
        while True:
            self._wake.clear()
            try:
                await self.run_due()
                until = await self.next_wake(self._clock.now())
            except asyncio.CancelledError:
                raise
            except Exception:  # keep scheduling after a database hiccup
                _LOGGER.exception("entitlement pass failed")
                until = self._clock.now() + timedelta(minutes=1)
            sleeper = asyncio.create_task(self._clock.sleep_until(until), name="entitlements-sleep")
            waker = asyncio.create_task(self._wake.wait(), name="entitlements-wake")
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sleeper, waker):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
