"""A subscription renews in one place, the billing run: one pro-forma and one mail per period.

The entitlement scheduler used to create its own order and mail ("Neue Bestellung für Ihr
Abonnement") at each expiry beside the billing run's renewal pro-forma (#12); it runs here
too, every day, and must add nothing.
"""

from __future__ import annotations

from datetime import timedelta

from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.entitlements.scheduler import EntitlementScheduler
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.repository import OutboxRepository
from tests.cloud_gateway.payments.conftest import Rig


async def _renewals(rig: Rig) -> int:
    return await rig.count("billing_documents", "WHERE kind = 'proforma' AND period > 0")


async def _renewal_mails(rig: Rig) -> int:
    return await rig.count("notification_outbox", "WHERE template = 'subscription_order'")


async def _days(rig: Rig, scheduler: EntitlementScheduler, days: int) -> None:
    """Both schedulers once a day (the billing run at each Berlin morning)."""
    for _ in range(days):
        rig.clock.advance(timedelta(days=1))
        await scheduler.run_due()
        await rig.billing.run()


def _scheduler(rig: Rig) -> EntitlementScheduler:
    outbox = Outbox(rig.store.repo(OutboxRepository))
    return EntitlementScheduler(rig.store, rig.entitlements, outbox, rig.clock)


async def _subscribed(rig: Rig) -> int:
    """A monthly subscription, its order paid by bank transfer; the order's id."""
    order_id = await rig.place(BookingType.SUBSCRIPTION)
    [first] = await rig.billing.open_proformas(order_id)
    await rig.billing.record_payment(
        rig.customer.account_id, first.gross, first.payment_reference or "", key="so-0"
    )
    return order_id


async def _orders(rig: Rig) -> int:
    """The account's billing orders: a renewal is a pro-forma of the running contract."""
    return await rig.count("billing_orders", f"WHERE account_id = {rig.customer.account_id}")


async def test_an_unpaid_renewal_stays_one_pro_forma_and_one_mail_and_access_ends(
    rig: Rig,
) -> None:
    scheduler = _scheduler(rig)
    order_id = await _subscribed(rig)
    # past the window's expiry (the package follows the 30-day trial): the old path ordered here
    await _days(rig, scheduler, 70)
    assert (await _renewals(rig), await _renewal_mails(rig)) == (1, 1)
    assert await _orders(rig) == 1  # the subscription's own order, no new one
    recurring = await rig.billing.recurring(order_id)
    assert recurring is not None
    assert await rig.billing.next_renewal(recurring.contract_id) is not None  # expired, unpaid
    assert await rig.packages() == 1


async def test_each_renewal_is_one_pro_forma_and_one_mail(rig: Rig) -> None:
    scheduler = _scheduler(rig)
    order_id = await _subscribed(rig)
    recurring = await rig.billing.recurring(order_id)
    assert recurring is not None
    # activation offered period 1 and announced it once
    offer = await rig.billing.next_renewal(recurring.contract_id)
    assert offer is not None
    assert offer.period == 1
    assert (await _renewals(rig), await _renewal_mails(rig)) == (1, 1)
    async with rig.store.engine.connect() as conn:
        body = (
            await conn.exec_driver_sql(
                "SELECT body FROM notification_outbox WHERE template = 'subscription_order'"
            )
        ).scalar_one()
    assert offer.number in body
    assert (offer.payment_reference or "") in body
    # ten days on: nothing new; the customer's standing order pays the offer
    await _days(rig, scheduler, 10)
    assert (await _renewals(rig), await _renewal_mails(rig)) == (1, 1)
    await rig.billing.record_payment(
        rig.customer.account_id, offer.gross, offer.payment_reference or "", key="so-1"
    )
    assert await rig.packages() == 2
    # the first month runs out (the first window expires, both schedulers pass every day):
    # period 1 starts, the run invoices it and offers period 2, announced once
    await _days(rig, scheduler, 25)
    assert (await _renewals(rig), await _renewal_mails(rig)) == (2, 2)
    await _days(rig, scheduler, 3)
    assert (await _renewals(rig), await _renewal_mails(rig)) == (2, 2)
    assert await rig.count("billing_documents", "WHERE kind = 'invoice'") == 2
    assert await _orders(rig) == 1  # the subscription's own order: renewals order nothing
