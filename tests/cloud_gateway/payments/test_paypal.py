"""PayPal end to end against the simulator: approval page, capture, verified webhooks."""

from __future__ import annotations

import json
from decimal import Decimal

import aiohttp

from cloud_gateway.billing.catalogue import BookingType, PaymentMedium
from cloud_gateway.billing.pricing import Voucher, VoucherKind
from cloud_gateway.billing.service import OrderLine
from cloud_gateway.payments.model import PaymentState
from simulator.paypal import PayPalSimulator
from tests.cloud_gateway.payments.conftest import Rig


async def _start(rig: Rig, order_id: int, key: str = "checkout-1") -> str:
    started = await rig.payments.start(
        order_id=order_id,
        account_id=rig.customer.account_id,
        method=PaymentMedium.PAYPAL,
        return_url=f"/shop/orders/{order_id}",
        cancel_url="/shop/cart",
        key=key,
    )
    assert started.payment_id is not None
    assert started.redirect_url is not None
    return started.redirect_url


async def test_approved_and_captured_once_though_webhooks_come_five_times(rig: Rig) -> None:
    rig.paypal.duplicates = 5
    order_id = await rig.place()
    assert await rig.packages() == 0
    location = await _start(rig, order_id)
    back = await rig.approve(location)
    assert back == f"/shop/orders/{order_id}?payment=paid"
    assert await rig.order_state(order_id) == "active"
    await rig.paypal.drain()
    statuses = {d.status for d in rig.paypal.deliveries}
    assert statuses == {200}
    assert sum(1 for d in rig.paypal.deliveries if d.event_type.startswith("PAYMENT.")) == 5
    await rig.exactly_once()


async def test_a_forged_webhook_is_refused_and_books_nothing(rig: Rig) -> None:
    order_id = await rig.place()
    location = await _start(rig, order_id)
    [payment] = await rig.payments.for_order(order_id)
    event = {
        "id": "WH-FORGED", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource_type": "capture",
        "resource": {"id": "CAPFORGED", "status": "COMPLETED",
                     "amount": {"currency_code": "EUR", "value": "3.57"},
                     "supplementary_data": {"related_ids": {"order_id": payment.provider_id}}},
    }  # fmt: skip
    body = json.dumps(event).encode()
    other = PayPalSimulator()  # another key: signs correctly, but not as PayPal
    other.webhook_id = rig.paypal.webhook_id
    forged = other.signature_headers(body)
    forged["PAYPAL-CERT-URL"] = rig.paypal.cert_url
    genuine = rig.paypal.signature_headers(b"{}")  # a real signature over another body
    outside = dict(forged, **{"PAYPAL-CERT-URL": "http://evil.example/cert"})
    url = f"{rig.url}/api/v1/payments/paypal/webhook"
    async with aiohttp.ClientSession() as http:
        for headers in (forged, genuine, outside, {"Content-Type": "application/json"}):
            async with http.post(url, data=body, headers=headers) as response:
                assert response.status == 422
                assert (await response.json())["reason"] == "signature"
    assert await rig.count("billing_journal") == 0
    assert await rig.order_state(order_id) == "confirmed"
    assert location


async def test_a_declined_payment_leaves_the_order_unpaid_with_a_clear_message(rig: Rig) -> None:
    order_id = await rig.place()
    location = await _start(rig, order_id)
    rig.paypal.decline = True
    back = await rig.approve(location)
    assert back == f"/shop/orders/{order_id}?payment=declined"
    assert await rig.order_state(order_id) == "confirmed"
    [payment] = await rig.payments.for_order(order_id)
    assert (payment.state, payment.message) == (PaymentState.DECLINED, "INSTRUMENT_DECLINED")
    await rig.paypal.drain()
    assert await rig.count("billing_journal") == 0
    assert await rig.packages() == 0


async def test_subscription_cycles_extend_the_window_and_cancelling_in_paypal_stops_it(
    rig: Rig,
) -> None:
    order_id = await rig.place(BookingType.SUBSCRIPTION)
    location = await _start(rig, order_id)
    back = await rig.approve(location)  # approving pays the first cycle (by webhook)
    assert back.startswith(f"/shop/orders/{order_id}?payment=")
    await rig.paypal.drain()
    assert await rig.order_state(order_id) == "active"
    assert await rig.packages() == 1
    [payment] = await rig.payments.for_order(order_id)
    subscription = payment.provider_id or ""
    assert subscription.startswith("I-")
    # the next cycle: PayPal pays the renewal pro-forma the billing run offered
    assert rig.paypal.bill_cycle(subscription) is not None
    await rig.paypal.drain()
    windows = await rig.entitlements.account_windows(rig.customer.account_id)
    packages = sorted((w for w in windows if w.kind.value == "package"), key=lambda w: w.start)
    assert len(packages) == 2
    assert packages[1].start == packages[0].end  # the paid period follows the first
    assert await rig.count("billing_settlements") == 2
    # the buyer cancels in PayPal's "Automatische Zahlungen"
    async with aiohttp.ClientSession() as http:
        url = f"{rig.paypal.url}/myaccount/autopay/{subscription}/cancel"
        async with http.post(url) as response:
            assert response.status == 200
    await rig.paypal.drain()
    assert rig.paypal.bill_cycle(subscription) is None  # no further cycles
    recurring = await rig.billing.recurring(order_id)
    assert recurring is not None
    assert await rig.billing.next_renewal(recurring.contract_id) is None
    async with rig.store.engine.connect() as conn:
        from sqlalchemy import text  # noqa: PLC0415

        state = (
            await conn.execute(
                text("SELECT state FROM billing_contracts WHERE id = :i"),
                {"i": recurring.contract_id},
            )
        ).scalar_one()
    assert state == "ended"


async def test_subscription_events_five_times_and_reversed_book_each_cycle_once(rig: Rig) -> None:
    order_id = await rig.place(BookingType.SUBSCRIPTION)
    location = await _start(rig, order_id)
    rig.paypal.duplicates = 5
    rig.paypal.hold()
    await rig.approve(location)  # ACTIVATED and the first SALE held back
    rig.paypal.release(reverse=True)
    await rig.paypal.drain()
    await rig.exactly_once()
    [payment] = await rig.payments.for_order(order_id)
    rig.paypal.hold()
    rig.paypal.bill_cycle(payment.provider_id or "")
    for event_id in list(rig.paypal.events):  # every event of the subscription once more
        rig.paypal.resend(event_id)
    rig.paypal.release(reverse=True)
    await rig.paypal.drain()
    assert await rig.count("billing_journal", "WHERE kind = 'payment'") == 2
    assert await rig.count("billing_settlements") == 2
    assert await rig.packages() == 2


async def test_a_first_period_voucher_makes_a_trial_cycle_and_renewals_pay_in_full(
    rig: Rig,
) -> None:
    await rig.billing.add_voucher(
        Voucher(code="WILLKOMMEN", kind=VoucherKind.PERCENT, value=Decimal(50)), key="v"
    )
    line = OrderLine(
        product="hub-remote", plan="1m", booking=BookingType.SUBSCRIPTION, voucher="WILLKOMMEN"
    )
    placed = await rig.billing.place_order(rig.customer, [line], key="order-v")
    order_id = placed["order_id"]
    [proforma] = await rig.billing.open_proformas(order_id)
    assert proforma.gross == 179  # 1.50 net + 19 % VAT
    await rig.approve(await _start(rig, order_id))
    await rig.paypal.drain()
    assert await rig.order_state(order_id) == "active"
    [payment] = await rig.payments.for_order(order_id)
    sale = rig.paypal.bill_cycle(payment.provider_id or "")
    await rig.paypal.drain()
    assert rig.paypal.events[next(reversed(rig.paypal.events))]["resource"]["id"] == sale
    paid = [e for e in rig.paypal.events.values() if e["event_type"] == "PAYMENT.SALE.COMPLETED"]
    assert [e["resource"]["amount"]["total"] for e in paid] == ["1.79", "3.57"]
    assert await rig.count("billing_settlements") == 2  # the renewal is settled in full
    assert await rig.packages() == 2
