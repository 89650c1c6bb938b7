"""Closing an account cancels its PayPal subscription at PayPal (R-POR-6, #12).

The subscription ends in PayPal itself (the simulator shows it ``CANCELLED``), so PayPal
charges no renewal afterwards; when PayPal is down at the closure, the closure still succeeds,
the subscription stays marked ``cancelling`` and the payment service's retry cancels it once
PayPal answers again.

Real parts: the billing core with entitlements and outbox on each backend, the payment
service with the PayPal provider speaking Subscriptions to the PayPal simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import timedelta

from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.catalogue import BookingType, PaymentMedium
from cloud_gateway.billing.service import OrderLine
from cloud_gateway.entitlements.api import OperatorFlagPolicy
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.payments.model import PaymentState
from cloud_gateway.portal.closure import AccountClosure, ClosedAccount
from cloud_gateway.tunnels.registry import TunnelRegistry
from tests.cloud_gateway.payments import conftest as payment_fixtures
from tests.cloud_gateway.payments.conftest import Rig

checked_store = payment_fixtures.checked_store
rig = payment_fixtures.rig

PASSWORD = "Sonnig!2026"


async def _subscribed(rig: Rig) -> tuple[int, int, str]:
    """A customer subscribes with PayPal and approves: (account, order, subscription id)."""
    hashed = PasswordHasher().hash(PASSWORD)
    account = await rig.store.repo(AccountRepository).create(
        username="hanna", email="hanna@example.org", password_hash=hashed,
        created_at=rig.clock.now(),
    )  # fmt: skip
    customer = replace(rig.customer, account_id=account.id)
    line = OrderLine(product="hub-remote", plan="1m", booking=BookingType.SUBSCRIPTION)
    placed = await rig.billing.place_order(customer, [line], key="order-hanna")
    order_id = int(placed["order_id"])
    started = await rig.payments.start(
        order_id=order_id, account_id=account.id, method=PaymentMedium.PAYPAL,
        return_url=f"/shop/orders/{order_id}", cancel_url="/shop/cart", key="checkout-sub",
    )  # fmt: skip
    assert started.redirect_url is not None
    await rig.approve(started.redirect_url)  # approving pays the first cycle (by webhook)
    await rig.paypal.drain()
    assert await rig.order_state(order_id) == "active"
    [payment] = await rig.payments.for_order(order_id)
    assert payment.state is PaymentState.PAID
    subscription = payment.provider_id or ""
    assert rig.paypal.subscription_status(subscription) == "ACTIVE"
    return account.id, order_id, subscription


async def _close(rig: Rig, account_id: int) -> ClosedAccount:
    closure = AccountClosure(
        store=rig.store, clock=rig.clock, passwords=PasswordHasher(),
        outbox=Outbox(rig.store.repo(OutboxRepository)), billing=rig.billing,
        tunnels=TunnelRegistry(rig.store, rig.clock, OperatorFlagPolicy()),
        subscriptions=rig.payments,
    )  # fmt: skip
    account = await rig.store.repo(AccountRepository).get(account_id)
    return await closure.close(account, PASSWORD)


async def _payments_booked(rig: Rig) -> int:
    return await rig.count("billing_journal", "WHERE kind = 'payment'")


async def test_closing_cancels_the_subscription_in_paypal_and_no_renewal_is_charged(
    rig: Rig,
) -> None:
    account_id, order_id, subscription = await _subscribed(rig)
    booked = await _payments_booked(rig)

    closed = await _close(rig, account_id)
    await rig.paypal.drain()  # PayPal's BILLING.SUBSCRIPTION.CANCELLED reaches the gateway

    assert closed.subscriptions_cancelled == 1
    assert rig.paypal.subscription_status(subscription) == "CANCELLED"
    [payment] = await rig.payments.for_order(order_id)
    assert payment.state is PaymentState.CANCELLED
    assert rig.paypal.bill_cycle(subscription) is None  # PayPal charges no further cycle
    await rig.paypal.drain()
    assert await _payments_booked(rig) == booked
    cancelled = [e for e in rig.paypal.events.values()
                 if e["event_type"] == "BILLING.SUBSCRIPTION.CANCELLED"]  # fmt: skip
    assert len(cancelled) == 1
    # asking again (a retried closure, the background retry) changes nothing
    assert await rig.payments.cancel_subscriptions(account_id, reason="again") == 0
    assert await rig.payments.retry_cancellations() == 0


async def test_paypal_down_at_closure_the_cancellation_is_retried_until_paypal_answers(
    rig: Rig,
) -> None:
    account_id, order_id, subscription = await _subscribed(rig)
    rig.paypal.outage = True

    closed = await _close(rig, account_id)  # the closure does not fail on PayPal

    assert closed.subscriptions_cancelled == 1
    [payment] = await rig.payments.for_order(order_id)
    assert payment.state is PaymentState.CANCELLING
    assert rig.paypal.subscription_status(subscription) == "ACTIVE"
    assert await rig.payments.retry_cancellations() == 1  # still down: left for later

    rig.paypal.outage = False
    assert await rig.payments.retry_cancellations() == 0
    await rig.paypal.drain()

    assert rig.paypal.subscription_status(subscription) == "CANCELLED"
    [payment] = await rig.payments.for_order(order_id)
    assert payment.state is PaymentState.CANCELLED
    booked = await _payments_booked(rig)
    assert rig.paypal.bill_cycle(subscription) is None
    await rig.paypal.drain()
    assert await _payments_booked(rig) == booked
    assert await rig.payments.retry_cancellations() == 0


async def test_a_subscription_the_buyer_cancelled_in_paypal_meanwhile_counts_as_cancelled(
    rig: Rig,
) -> None:
    """PayPal refuses to cancel it again (422 SUBSCRIPTION_STATUS_INVALID): nothing renews,
    so it is done, not retried for ever; its own webhook arrives afterwards and changes
    nothing."""
    account_id, order_id, subscription = await _subscribed(rig)
    rig.paypal.hold()  # the buyer's cancellation event is still on its way
    rig.paypal.cancel_subscription(subscription)

    closed = await _close(rig, account_id)

    assert closed.subscriptions_cancelled == 1
    [payment] = await rig.payments.for_order(order_id)
    assert payment.state is PaymentState.CANCELLED
    assert await rig.payments.retry_cancellations() == 0
    rig.paypal.release()
    await rig.paypal.drain()
    [payment] = await rig.payments.for_order(order_id)
    assert payment.state is PaymentState.CANCELLED
    assert rig.paypal.bill_cycle(subscription) is None


async def test_the_background_task_cancels_once_paypal_answers_again(rig: Rig) -> None:
    account_id, order_id, subscription = await _subscribed(rig)
    rig.paypal.outage = True
    await _close(rig, account_id)
    every = timedelta(minutes=5)
    task = asyncio.create_task(rig.payments.run_cancellations(every))
    try:
        await rig.clock.sleepers()  # its first round is done: PayPal down, still cancelling
        [payment] = await rig.payments.for_order(order_id)
        assert payment.state is PaymentState.CANCELLING
        assert rig.paypal.subscription_status(subscription) == "ACTIVE"

        rig.paypal.outage = False
        rig.clock.advance(every)
        await rig.clock.sleepers()  # the second round is done
        await rig.paypal.drain()
        assert rig.paypal.subscription_status(subscription) == "CANCELLED"
        [payment] = await rig.payments.for_order(order_id)
        assert payment.state is PaymentState.CANCELLED
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
