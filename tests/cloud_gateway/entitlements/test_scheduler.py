"""Time travel: reminders on day -5 and day 0 for single bookings; subscriptions get neither
reminders nor orders here (the billing run renews them: tests/cloud_gateway/payments)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.config import SmtpConfig
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.scheduler import EntitlementScheduler
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import Booking
from cloud_gateway.localdays import local_date
from cloud_gateway.notify import MailWorker, Outbox
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.store import Store
from tests.support.smtp import RecordingSmtp
from tunnel.clock import ManualClock


class Recorder:
    def __init__(self) -> None:
        self.device_ids: list[int] = []

    async def entitlement_changed(self, device_id: int) -> None:
        self.device_ids.append(device_id)


async def test_reminders_exactly_on_day_minus_five_and_expiry_day_never_for_subscriptions(
    store: Store, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    single = await store.repo(AccountRepository).create(
        username="single", email="single@example.org", password_hash="h", created_at=clock.now()
    )
    sub = await store.repo(AccountRepository).create(
        username="sub",
        email="sub@example.org",
        password_hash="h",
        created_at=clock.now(),
        language="en",
    )
    hub = await store.repo(DeviceRepository).create(
        slug="ccu-single", kind=DeviceKind.CCU, created_at=clock.now(), account_id=single.id
    )
    service = EntitlementService(store, clock)
    listener = Recorder()
    service.add_listener(listener)
    outbox = Outbox(store.repo(OutboxRepository))
    scheduler = EntitlementScheduler(store, service, outbox, clock)
    worker = MailWorker(
        store.repo(OutboxRepository), SmtpConfig(host="127.0.0.1", port=smtp_server.port), clock
    )
    for account, booking in ((single, Booking.SINGLE), (sub, Booking.SUBSCRIPTION)):
        await service.book_package(
            account_id=account.id,
            paid_at=clock.now(),
            days=30,
            booking=booking,
            product="CloudMatic easy",
            source=f"order:{account.id}",
            idempotency_key=f"order:{account.id}",
        )
    listener.device_ids.clear()
    # the package follows the trial: 15 February .. 16 March (expiry day), both accounts
    sent_on: list[tuple[date, str, str]] = []
    clock.set(datetime(2026, 3, 5, 0, 0, tzinfo=UTC))
    while clock.now() < datetime(2026, 3, 25, tzinfo=UTC):
        await scheduler.run_due()
        before = len(smtp_server.messages)
        await worker.deliver_pending()
        today = local_date(clock.now())
        sent_on.extend(
            (today, m["To"], m["X-Outbox-Template"]) for m in smtp_server.messages[before:]
        )
        clock.advance(timedelta(hours=3))
    assert sent_on == [
        (date(2026, 3, 11), "single@example.org", "package_reminder_before"),
        (date(2026, 3, 16), "single@example.org", "package_reminder_day"),
    ]
    billing = store.repo(BillingRepository)
    async with billing.transaction() as conn:
        for account in (single, sub):
            assert await billing.orders(conn, account.id) == []  # the scheduler orders nothing
    # the scheduler told the tunnel side when the single booking's window ended
    assert hub.id in listener.device_ids
    decision = await service.decide(hub, clock.now())
    assert decision.reason == "expired"


async def test_a_renewed_single_booking_gets_no_reminder(
    store: Store, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    account = await store.repo(AccountRepository).create(
        username="anna", email="anna@example.org", password_hash="h", created_at=clock.now()
    )
    service = EntitlementService(store, clock)
    outbox = Outbox(store.repo(OutboxRepository))
    scheduler = EntitlementScheduler(store, service, outbox, clock)
    for n in (1, 2):
        await service.book_package(
            account_id=account.id,
            paid_at=clock.now(),
            days=30,
            booking=Booking.SINGLE,
            product="p",
            source=f"order:{n}",
            idempotency_key=f"order:{n}",
        )
    clock.set(datetime(2026, 3, 11, 12, 0, tzinfo=UTC))
    assert (await scheduler.run_due()).reminders == 0
    clock.set(datetime(2026, 4, 10, 12, 0, tzinfo=UTC))  # day -5 of the second package
    assert (await scheduler.run_due()).reminders == 1
    assert (await scheduler.run_due()).reminders == 0  # idempotent within the day


async def test_next_wake_is_the_next_end_or_reminder_hour(store: Store, clock: ManualClock) -> None:
    service = EntitlementService(store, clock)
    scheduler = EntitlementScheduler(store, service, Outbox(store.repo(OutboxRepository)), clock)
    now = datetime(2026, 3, 11, 7, 30, tzinfo=UTC)
    assert await scheduler.next_wake(now) == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    later = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
    assert await scheduler.next_wake(later) == later + timedelta(hours=1)
