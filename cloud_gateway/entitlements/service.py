"""The entitlement service: windows in the store, the pure rules, and the enforcement contract.

It implements :class:`~cloud_gateway.entitlements.api.DeviceEntitlementPolicy` (``decide``) for
the tunnel endpoint and the remote-access proxy, and offers :meth:`plant_decision` for the data
API. Every change of windows calls the registered
:class:`~cloud_gateway.entitlements.api.EntitlementListener` for the hubs concerned, so open
tunnels are re-evaluated at once; a decision's ``until`` is the end of the continuous
entitlement, so the tunnel side can schedule the close for that instant.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.config import EntitlementsConfig
from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.api import (
    Decision,
    EntitlementListener,
    LicenceDecision,
    PlantRefusal,
)
from cloud_gateway.entitlements.hub_rules import account_trial, package_window
from cloud_gateway.entitlements.plant_rules import (
    LicenceStatus,
    PowerIncrease,
    licence_status,
    licence_window,
    on_power_change,
    plant_trial,
)
from cloud_gateway.entitlements.replacement import replacement_start
from cloud_gateway.entitlements.repository import EntitlementRepository, StoredWindow
from cloud_gateway.entitlements.windows import (
    Answer,
    Booking,
    Subject,
    WhyNot,
    Window,
    WindowKind,
    entitlement_at,
)
from cloud_gateway.errors import StateError
from cloud_gateway.store import Store
from cloud_gateway.store.database import BoundConnection
from tunnel.clock import Clock
from tunnel.frame_types import RefusalReason

__all__ = ["EntitlementService"]

_LOGGER = logging.getLogger(__name__)
_FORBIDDEN_RETRY_S = 3600.0
_FEW_PLANTS = 500
"""Up to this many plants a decision reads only their windows (an IN list), else all."""


class EntitlementService:
    """Decides, creates and ends entitlement windows."""

    def __init__(
        self, store: Store, clock: Clock, config: EntitlementsConfig | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config or EntitlementsConfig()
        self._listeners: list[EntitlementListener] = []

    @property
    def config(self) -> EntitlementsConfig:
        """Trial lengths and reminder settings."""
        return self._config

    async def grant_account_trial(
        self, conn: AsyncConnection, account: Account, now: datetime
    ) -> None:
        """Registration step: the new account's hub trial, in the registration's transaction."""
        days = self._config.hub_trial_days
        await self._store.repo(EntitlementRepository).add(
            conn,
            account_trial(now, days),
            subject=Subject.ACCOUNT,
            subject_id=account.id,
            account_id=account.id,
            now=now,
            period_days=days,
            idempotency_key=f"trial:account:{account.id}",
        )

    def add_listener(self, listener: EntitlementListener) -> None:
        """Be told (per hub device id) whenever windows change."""
        self._listeners.append(listener)

    # -- questions -------------------------------------------------------------------------

    async def account_windows(self, account_id: int, device_id: int | None = None) -> list[Window]:
        """The hub windows of an account (plus one hub's own grants).

        An account without a stored trial (created outside registration) gets the trial
        derived from its creation instant, so R-CCU-2 holds for every account.
        """
        subjects = [(Subject.ACCOUNT, account_id)]
        if device_id is not None:
            subjects.append((Subject.HUB, device_id))
        stored = await self._store.repo(EntitlementRepository).for_subjects(*subjects)
        windows = [s.window for s in stored]
        if not any(w.kind is WindowKind.TRIAL for w in windows):
            account = await self._store.repo(AccountRepository).get(account_id)
            windows.append(account_trial(account.created_at, self._config.hub_trial_days))
        return windows

    async def hub_answer(
        self, account_id: int, at: datetime, device_id: int | None = None
    ) -> Answer:
        """The pure answer for an account's hubs (or one hub) at ``at``."""
        return entitlement_at(await self.account_windows(account_id, device_id), at)

    async def decide(self, device: Device, at: datetime) -> Decision:
        """May ``device`` hold a tunnel at ``at``? (DeviceEntitlementPolicy)"""
        if device.disabled:
            return Decision(
                entitled=False, reason=RefusalReason.FORBIDDEN, retry_after_s=_FORBIDDEN_RETRY_S
            )
        if device.kind is DeviceKind.INVERTER_AGENT:
            # plant licences gate the data (plant_decision), not the agent's tunnel: the agent
            # must keep reporting so trials start and power increases are seen
            return Decision(entitled=True)
        if device.account_id is None:
            return Decision(
                entitled=False, reason=RefusalReason.FORBIDDEN, retry_after_s=_FORBIDDEN_RETRY_S
            )
        windows = await self.account_windows(device.account_id, device.id)
        decision = self._decision(entitlement_at(windows, at))
        return dataclasses.replace(decision, windows=tuple(windows))  # read once (ADR 0030)

    def _decision(self, answer: Answer) -> Decision:
        if answer.entitled:
            return Decision(entitled=True, until=answer.until)
        if answer.why_not is WhyNot.EXPIRED:
            return Decision(
                entitled=False,
                reason=RefusalReason.EXPIRED,
                retry_after_s=self._config.expired_retry_after_s,
            )
        retry = _FORBIDDEN_RETRY_S
        if answer.next_start is not None:
            retry = max(1.0, (answer.next_start - self._clock.now()).total_seconds())
        return Decision(entitled=False, reason=RefusalReason.FORBIDDEN, retry_after_s=retry)

    async def plant_windows(self, plant_id: int) -> list[Window]:
        """Every window of a plant."""
        return [
            s.window
            for s in await self._store.repo(EntitlementRepository).for_subjects(
                (Subject.PLANT, plant_id)
            )
        ]

    async def plant_status(
        self, plant_id: int, at: datetime, *, trial_started_at: datetime | None = None
    ) -> LicenceStatus:
        """What the portal shows: entitled, end, days left, "Lizenz erneuern" offered.

        ``trial_started_at`` (the plant's first activation, as the plants area records it)
        stands in for the trial window when none was stored with :meth:`start_plant_trial`.
        """
        return self._plant_status(await self.plant_windows(plant_id), at, trial_started_at)

    def _plant_status(
        self, windows: list[Window], at: datetime, trial_started_at: datetime | None
    ) -> LicenceStatus:
        if trial_started_at is not None and not any(w.kind is WindowKind.TRIAL for w in windows):
            windows.append(plant_trial(trial_started_at, self._config.plant_trial_days))
        return licence_status(windows, at, self._config.renew_offer_days)

    async def plant_decision(
        self, plant_id: int, at: datetime, *, trial_started_at: datetime | None = None
    ) -> LicenceDecision:
        """May the plant's data be served at ``at``? Not entitled: reason ``unlicensed``."""
        status = await self.plant_status(plant_id, at, trial_started_at=trial_started_at)
        if status.entitled:
            return LicenceDecision(entitled=True, until=status.ends_at)
        return LicenceDecision(entitled=False, reason=PlantRefusal.UNLICENSED)

    async def plant_decisions(
        self, trials: Mapping[int, datetime | None], at: datetime
    ) -> dict[int, LicenceDecision]:
        """:meth:`plant_decision` for many plants (id -> first activation) in ONE query
        (filtered by id for a few plants, over all plant windows covering ``at`` for many)."""
        few = list(trials) if len(trials) <= _FEW_PLANTS else None
        stored = await self._store.repo(EntitlementRepository).plant_windows_at(at, few)
        answers: dict[int, LicenceDecision] = {}
        for plant_id, trial_started_at in trials.items():
            status = self._plant_status(list(stored.get(plant_id, ())), at, trial_started_at)
            answers[plant_id] = (
                LicenceDecision(entitled=True, until=status.ends_at)
                if status.entitled
                else LicenceDecision(entitled=False, reason=PlantRefusal.UNLICENSED)
            )
        return answers

    # -- changes ---------------------------------------------------------------------------

    async def start_plant_trial(
        self, plant_id: int, account_id: int | None, first_activation_at: datetime
    ) -> StoredWindow:
        """The plant's 40-day trial; idempotent (only the first activation counts)."""
        window = plant_trial(first_activation_at, self._config.plant_trial_days)
        async with self._store.database.begin() as conn:
            return await self._store.repo(EntitlementRepository).add(
                conn,
                window,
                subject=Subject.PLANT,
                subject_id=plant_id,
                account_id=account_id,
                now=self._clock.now(),
                period_days=self._config.plant_trial_days,
                idempotency_key=f"trial:plant:{plant_id}",
            )

    async def book_package(
        self,
        *,
        account_id: int,
        paid_at: datetime,
        days: int,
        booking: Booking,
        product: str,
        source: str,
        idempotency_key: str,
    ) -> StoredWindow:
        """A paid hub package: it follows the current entitlement (trial included)."""
        async with self._store.database.begin() as conn:
            stored = await self.book_package_in(
                conn, account_id=account_id, paid_at=paid_at, days=days, booking=booking,
                product=product, source=source, idempotency_key=idempotency_key,
            )  # fmt: skip
        await self.account_changed(account_id)
        return stored

    async def book_package_in(
        self,
        conn: AsyncConnection,
        *,
        account_id: int,
        paid_at: datetime,
        days: int,
        booking: Booking,
        product: str,
        source: str,
        idempotency_key: str,
        account: Account | None = None,
    ) -> StoredWindow:
        """:meth:`book_package` inside the caller's transaction (activation on payment).

        The windows are read on ``conn``, so two packages of one order follow each other.
        The caller calls :meth:`account_changed` after its commit, so open tunnels learn the
        new state at once (never before the window is visible to them). ``account``: the
        account's row when the caller holds it (read otherwise, if its trial is needed).
        """
        repo = EntitlementRepository(BoundConnection(conn))
        windows = [s.window for s in await repo.for_subjects((Subject.ACCOUNT, account_id))]
        if not any(w.kind is WindowKind.TRIAL for w in windows):
            if account is None or account.id != account_id:
                account = await AccountRepository(BoundConnection(conn)).get(account_id)
            windows.append(account_trial(account.created_at, self._config.hub_trial_days))
        window = package_window(windows, paid_at, days, booking, source)
        return await repo.add(
            conn,
            window,
            subject=Subject.ACCOUNT,
            subject_id=account_id,
            account_id=account_id,
            now=self._clock.now(),
            product=product,
            period_days=days,
            idempotency_key=idempotency_key,
        )

    async def account_changed(self, account_id: int) -> None:
        """Tell the listeners that the account's hub windows changed (after the commit)."""
        await self._changed(Subject.ACCOUNT, account_id)

    async def buy_licence(
        self,
        *,
        plant_id: int,
        account_id: int | None,
        paid_at: datetime,
        days: int,
        licensed_power_w: int,
        source: str,
        idempotency_key: str,
        start: datetime | None = None,
    ) -> StoredWindow:
        """A paid plant licence (365/730 days). Without ``start``, a licence replacing one a
        power increase ended counts from the increase (:func:`replacement_start`)."""
        async with self._store.database.begin() as conn:
            return await self.buy_licence_in(
                conn, plant_id=plant_id, account_id=account_id, paid_at=paid_at, days=days,
                licensed_power_w=licensed_power_w, source=source,
                idempotency_key=idempotency_key, start=start,
            )  # fmt: skip

    async def buy_licence_in(
        self,
        conn: AsyncConnection,
        *,
        plant_id: int,
        account_id: int | None,
        paid_at: datetime,
        days: int,
        licensed_power_w: int,
        source: str,
        idempotency_key: str,
        start: datetime | None = None,
    ) -> StoredWindow:
        """:meth:`buy_licence` inside the caller's transaction (activation on payment)."""
        repo = EntitlementRepository(BoundConnection(conn))
        windows = [s.window for s in await repo.for_subjects((Subject.PLANT, plant_id))]
        if start is None:  # a licence replacing one a power increase ended counts from it
            start = replacement_start(windows, paid_at)
        window = licence_window(windows, paid_at, days, licensed_power_w, source, start=start)
        return await repo.add(
            conn,
            window,
            subject=Subject.PLANT,
            subject_id=plant_id,
            account_id=account_id,
            now=self._clock.now(),
            product="licence",
            period_days=days,
            idempotency_key=idempotency_key,
        )

    async def book_service_period(
        self,
        conn: AsyncConnection,
        *,
        contract_id: int,
        account_id: int,
        start: datetime,
        end: datetime,
        product: str,
        idempotency_key: str,
        now: datetime,
    ) -> StoredWindow:
        """A paid month of a service contract, in the caller's (the payment's) transaction."""
        window = Window(
            kind=WindowKind.SERVICE, start=start, end=end, source=f"contract:{contract_id}"
        )
        return await self._store.repo(EntitlementRepository).add(
            conn,
            window,
            subject=Subject.SERVICE,
            subject_id=contract_id,
            account_id=account_id,
            now=now,
            product=product,
            period_days=(end - start).days,
            idempotency_key=idempotency_key,
        )

    async def end_service(
        self, conn: AsyncConnection, *, contract_id: int, at: datetime, now: datetime, note: str
    ) -> int:
        """End a service contract's windows at ``at`` (early termination); returns how many."""
        repo = self._store.repo(EntitlementRepository)
        ended = 0
        for stored in await repo.windows_in(conn, Subject.SERVICE, contract_id):
            if stored.window.effective_end <= at:
                continue
            if stored.window.id is None:
                continue
            await repo.set_ended(conn, stored.window.id, at)
            await repo.audit(
                conn, at=now, actor_account_id=None, action="end", window_id=stored.window.id,
                detail=note,
            )  # fmt: skip
            ended += 1
        return ended

    async def service_answer(self, contract_id: int, at: datetime) -> Answer:
        """May the service contract's resource be used at ``at``? (for the gates)"""
        stored = await self._store.repo(EntitlementRepository).for_subjects(
            (Subject.SERVICE, contract_id)
        )
        return entitlement_at([s.window for s in stored], at)

    async def plant_power_changed(self, plant_id: int, power_w: int, at: datetime) -> PowerIncrease:
        """A new nominal power: licences it exceeds end now; their credits are returned."""
        stored = await self._store.repo(EntitlementRepository).for_subjects(
            (Subject.PLANT, plant_id)
        )
        change = on_power_change([s.window for s in stored], power_w, at)
        async with self._store.database.begin() as conn:
            for ended in change.ended:
                if ended.id is None or ended.ended_at is None:
                    raise StateError(f"an ended window without id or end: {ended!r}")
                await self._store.repo(EntitlementRepository).set_ended(
                    conn, ended.id, ended.ended_at
                )
                await self._store.repo(EntitlementRepository).audit(
                    conn,
                    at=self._clock.now(),
                    actor_account_id=None,
                    action="power_exceeded",
                    window_id=ended.id,
                    detail=f"plant power {power_w} W > licensed {ended.licensed_power_w} W",
                )
        return change

    async def grant(
        self,
        *,
        actor_account_id: int,
        subject: Subject,
        subject_id: int,
        start: datetime,
        end: datetime,
        note: str,
        idempotency_key: str | None = None,
        account_id: int | None = None,
    ) -> StoredWindow:
        """An operator grants a window by hand (R-OPS-2), with an audit entry."""
        window = Window(
            kind=WindowKind.GRANT, start=start, end=end, source=f"operator:{actor_account_id}"
        )
        now = self._clock.now()
        async with self._store.database.begin() as conn:
            stored = await self._store.repo(EntitlementRepository).add(
                conn,
                window,
                subject=subject,
                subject_id=subject_id,
                account_id=account_id if account_id is not None else _owner(subject, subject_id),
                now=now,
                idempotency_key=idempotency_key,
            )
            await self._store.repo(EntitlementRepository).audit(
                conn,
                at=now,
                actor_account_id=actor_account_id,
                action="grant",
                window_id=stored.id,
                detail=note,
            )
        await self._changed(subject, subject_id)
        return stored

    async def end_window(
        self, *, actor_account_id: int | None, window_id: int, at: datetime, note: str
    ) -> StoredWindow:
        """End a window early (an operator by hand, R-OPS-2), with an audit entry."""
        async with self._store.database.begin() as conn:
            stored = await self._store.repo(EntitlementRepository).set_ended(conn, window_id, at)
            await self._store.repo(EntitlementRepository).audit(
                conn,
                at=self._clock.now(),
                actor_account_id=actor_account_id,
                action="end",
                window_id=window_id,
                detail=note,
            )
        await self._changed(stored.subject, stored.subject_id)
        return stored

    async def _changed(self, subject: Subject, subject_id: int) -> None:
        """Tell the listeners about every hub whose entitlement may have changed."""
        if not self._listeners or subject in (Subject.PLANT, Subject.SERVICE):
            return
        if subject is Subject.HUB:
            device_ids = [subject_id]
        else:
            devices = await self._store.repo(DeviceRepository).list_for_account(subject_id)
            device_ids = [d.id for d in devices if d.kind is DeviceKind.CCU]
        for device_id in device_ids:
            for listener in self._listeners:
                try:
                    await listener.entitlement_changed(device_id)
                except Exception:  # one failing listener must not block the others
                    _LOGGER.exception("entitlement listener failed for device %d", device_id)

    async def windows_ended(self, stored: list[StoredWindow]) -> None:
        """The scheduler saw these windows end: re-evaluate their hubs."""
        seen: set[tuple[Subject, int]] = set()
        for s in stored:
            key = (s.subject, s.subject_id)
            if key not in seen:
                seen.add(key)
                await self._changed(*key)


def _owner(subject: Subject, subject_id: int) -> int | None:
    return subject_id if subject is Subject.ACCOUNT else None
