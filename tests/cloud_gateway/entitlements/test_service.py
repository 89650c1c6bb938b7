"""The entitlement service on both backends: hub decisions, operator windows, plant licences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.api import DeviceEntitlementPolicy
from cloud_gateway.entitlements.repository import EntitlementRepository
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import Booking, Subject
from cloud_gateway.store import Store
from tunnel.clock import ManualClock

TRIAL_END = datetime(2026, 2, 14, 23, 0, tzinfo=UTC)  # clock starts 15 January 09:00 UTC


class Recorder:
    def __init__(self) -> None:
        self.device_ids: list[int] = []

    async def entitlement_changed(self, device_id: int) -> None:
        self.device_ids.append(device_id)


async def _hub(store: Store, clock: ManualClock) -> tuple[Account, Device]:
    account = await store.repo(AccountRepository).create(
        username="anna", email="anna@example.org", password_hash="h", created_at=clock.now()
    )
    device = await store.repo(DeviceRepository).create(
        slug="ccu-anna", kind=DeviceKind.CCU, created_at=clock.now(), account_id=account.id
    )
    return account, device


async def test_trial_then_package_after_trial_then_expired(
    store: Store, clock: ManualClock
) -> None:
    account, device = await _hub(store, clock)
    service = EntitlementService(store, clock)
    policy: DeviceEntitlementPolicy = service
    decision = await policy.decide(device, clock.now())
    assert decision.entitled
    assert decision.until == TRIAL_END
    window = await service.book_package(
        account_id=account.id,
        paid_at=clock.now() + timedelta(days=3),
        days=30,
        booking=Booking.SINGLE,
        product="CloudMatic easy",
        source="order:1",
        idempotency_key="order:1",
    )
    assert window.window.start == TRIAL_END
    again = await service.book_package(
        account_id=account.id,
        paid_at=clock.now() + timedelta(days=3),
        days=30,
        booking=Booking.SINGLE,
        product="CloudMatic easy",
        source="order:1",
        idempotency_key="order:1",
    )
    assert again.id == window.id  # a retried payment never books twice
    decision = await service.decide(device, clock.now())
    assert decision.until == window.window.end
    # the windows it was decided on travel with it (the hub's package view reads no more)
    assert decision.windows is not None
    assert sorted(decision.windows, key=lambda w: w.start) == sorted(
        await service.account_windows(account.id, device.id), key=lambda w: w.start
    )
    assert window.window in decision.windows
    after = await service.decide(device, window.window.end)
    assert not after.entitled
    assert after.reason == "expired"
    assert after.retry_after_s >= 3600


async def test_disabled_or_unowned_devices_are_forbidden_agents_are_not_gated(
    store: Store, clock: ManualClock
) -> None:
    _account, device = await _hub(store, clock)
    service = EntitlementService(store, clock)
    await store.repo(DeviceRepository).set_disabled(device.slug, disabled=True)
    disabled = await store.repo(DeviceRepository).get_by_slug(device.slug)
    assert (await service.decide(disabled, clock.now())).reason == "forbidden"
    orphan = await store.repo(DeviceRepository).create(
        slug="ccu-x", kind=DeviceKind.CCU, created_at=clock.now()
    )
    assert (await service.decide(orphan, clock.now())).reason == "forbidden"
    agent = await store.repo(DeviceRepository).create(
        slug="agent", kind=DeviceKind.INVERTER_AGENT, created_at=clock.now()
    )
    assert (await service.decide(agent, clock.now() + timedelta(days=400))).entitled


async def test_operator_grant_and_end_are_audited_and_announced(
    store: Store, clock: ManualClock
) -> None:
    account, device = await _hub(store, clock)
    operator = await store.repo(AccountRepository).create(
        username="op", email="op@example.org", password_hash="h", created_at=clock.now()
    )
    service = EntitlementService(store, clock)
    listener = Recorder()
    service.add_listener(listener)
    start = TRIAL_END + timedelta(days=10)
    granted = await service.grant(
        actor_account_id=operator.id,
        subject=Subject.HUB,
        subject_id=device.id,
        start=start,
        end=start + timedelta(days=7),
        note="goodwill after outage",
    )
    assert listener.device_ids == [device.id]
    assert (await service.decide(device, start + timedelta(days=1))).entitled
    at = start + timedelta(days=2)
    await service.end_window(
        actor_account_id=operator.id, window_id=granted.id, at=at, note="abuse"
    )
    assert listener.device_ids == [device.id, device.id]
    decision = await service.decide(device, at)
    assert not decision.entitled
    assert decision.reason == "forbidden"
    trail = await store.repo(EntitlementRepository).audit_trail(granted.id)
    assert [(actor, action, detail) for _, actor, action, detail in trail] == [
        (operator.id, "grant", "goodwill after outage"),
        (operator.id, "end", "abuse"),
    ]
    # ending the account's package also reaches every hub of the account
    package = await service.book_package(
        account_id=account.id,
        paid_at=clock.now(),
        days=30,
        booking=Booking.SINGLE,
        product="p",
        source="order:2",
        idempotency_key="order:2",
    )
    assert listener.device_ids[-1] == device.id
    assert package.account_id == account.id


async def test_plant_trial_licence_power_increase_and_credit(
    store: Store, clock: ManualClock
) -> None:
    service = EntitlementService(store, clock)
    activated = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)
    unlicensed = await service.plant_decision(7, activated)
    assert not unlicensed.entitled
    assert unlicensed.reason == "unlicensed"
    trial = await service.start_plant_trial(7, None, activated)
    again = await service.start_plant_trial(7, None, activated + timedelta(days=1))
    assert again.id == trial.id  # only the first activation starts the trial
    assert (await service.plant_decision(7, activated)).until == datetime(
        2026, 5, 6, 22, 0, tzinfo=UTC
    )
    assert not (await service.plant_decision(7, datetime(2026, 5, 6, 22, 0, tzinfo=UTC))).entitled
    lic = await service.buy_licence(
        plant_id=7,
        account_id=None,
        paid_at=datetime(2026, 4, 10, tzinfo=UTC),
        days=365,
        licensed_power_w=10_000,
        source="order:9",
        idempotency_key="order:9",
    )
    assert lic.window.start == trial.window.end
    increase_at = datetime(2026, 8, 31, 12, 0, tzinfo=UTC)
    change = await service.plant_power_changed(7, 12_000, increase_at)
    (credit,) = change.credits
    assert credit.remaining_days == 249
    assert credit.value(Decimal("120.00")) == Decimal("81.86")
    assert not (await service.plant_decision(7, increase_at)).entitled
    status = await service.plant_status(7, increase_at - timedelta(seconds=1))
    assert status.entitled
    assert status.ends_at == increase_at
    await service.buy_licence(
        plant_id=7,
        account_id=None,
        paid_at=increase_at + timedelta(days=2),
        days=365,
        licensed_power_w=12_000,
        source="order:10",
        idempotency_key="order:10",
        start=increase_at,
    )
    assert (await service.plant_decision(7, increase_at)).entitled
    assert [a for _, _, a, _ in await store.repo(EntitlementRepository).audit_trail(lic.id)] == [
        "power_exceeded"
    ]
