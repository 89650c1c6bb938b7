"""Card and online transfer through the PSP simulator's hosted page, and its notifications."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from cloud_gateway.billing.catalogue import PaymentMedium
from cloud_gateway.payments.model import PaymentState
from simulator.psp import DECLINED_CARD
from tests.cloud_gateway.payments.conftest import Rig


async def _pay(
    rig: Rig, method: str, card: str = "4242424242424242", order_id: int | None = None
) -> tuple[int, str]:
    """Place (unless given), start, pay on the hosted page; the order id and where it ends."""
    order_id = order_id or await rig.place()
    started = await rig.payments.start(
        order_id=order_id,
        account_id=rig.customer.account_id,
        method=PaymentMedium.CARD,
        return_url=f"/shop/orders/{order_id}",
        cancel_url="/shop/cart",
        key="card-1",
    )
    assert started.redirect_url is not None
    async with aiohttp.ClientSession() as http:
        async with http.get(started.redirect_url) as page:
            text = await page.text()
        assert "3,57 EUR" in text  # 3.00 net + 19 % VAT, the same for every method
        async with http.post(
            started.redirect_url, data={"method": method, "card": card}, allow_redirects=False
        ) as paid:
            back = paid.headers["Location"]
        async with http.get(back, allow_redirects=False) as done:
            return order_id, done.headers["Location"]


@pytest.mark.parametrize("method", ["card", "online_transfer"])
async def test_paid_on_the_hosted_page_activates_once(rig: Rig, method: str) -> None:
    rig.psp.duplicates = 3
    order_id, back = await _pay(rig, method)
    # booked by the signed notification, which may overtake the buyer or not
    assert back in {f"/shop/orders/{order_id}?payment={s}" for s in ("paid", "pending")}
    await rig.psp.drain()
    assert {status for _, status in rig.psp.notifications} == {200}
    assert await rig.order_state(order_id) == "active"
    await rig.exactly_once()


async def test_a_declined_card_leaves_the_order_unpaid(rig: Rig) -> None:
    order_id, back = await _pay(rig, "card", DECLINED_CARD)
    assert back == f"/shop/orders/{order_id}?payment=declined"
    await rig.psp.drain()
    assert await rig.order_state(order_id) == "confirmed"
    [payment] = await rig.payments.for_order(order_id)
    assert payment.state is PaymentState.DECLINED
    assert await rig.count("billing_journal") == 0


async def test_jetzt_kaufen_again_after_a_decline_pays_the_same_order(rig: Rig) -> None:
    order_id, back = await _pay(rig, "card", DECLINED_CARD)
    assert back == f"/shop/orders/{order_id}?payment=declined"
    await rig.psp.drain()

    async def click() -> str | None:
        started = await rig.payments.start(
            order_id=order_id, account_id=rig.customer.account_id, method=PaymentMedium.CARD,
            return_url=f"/shop/orders/{order_id}", cancel_url="/shop/cart", key="card-1",
        )  # fmt: skip
        return started.redirect_url

    # a double click after the decline: one fresh attempt at the provider, not two
    first, second = await asyncio.gather(click(), click())
    declined, retry = await rig.payments.for_order(order_id)
    assert (declined.state, retry.state) == (PaymentState.DECLINED, PaymentState.PENDING)
    assert first == second == retry.redirect_url != declined.redirect_url

    # paid this time (same key, same order): activated once; a late click changes nothing
    again_id, back = await _pay(rig, "card", order_id=order_id)
    assert again_id == order_id
    assert back in {f"/shop/orders/{order_id}?payment={s}" for s in ("paid", "pending")}
    await rig.psp.drain()
    assert await rig.order_state(order_id) == "active"
    assert await click() == retry.redirect_url
    assert [p.state for p in await rig.payments.for_order(order_id)] == [
        PaymentState.DECLINED,
        PaymentState.PAID,
    ]
    await rig.exactly_once()


async def test_forged_or_replayed_notifications_are_refused(rig: Rig) -> None:
    order_id = await rig.place()
    started = await rig.payments.start(
        order_id=order_id,
        account_id=rig.customer.account_id,
        method=PaymentMedium.CARD,
        return_url="/o",
        cancel_url="/c",
        key="k",
    )
    [payment] = await rig.payments.for_order(order_id)
    checkout = {"id": payment.provider_id, "amount": 357, "currency": "EUR", "status": "paid"}
    body = json.dumps({"id": "evt_forged", "type": "checkout.paid", "checkout": checkout})
    forged = dict(rig.psp.signed(body.encode()), **{"X-PSP-Signature": "00" * 32})
    replayed = rig.psp.signed(body.encode(), timestamp=int(time.time()) - 3600)
    url = f"{rig.url}/api/v1/payments/psp/notify"
    async with aiohttp.ClientSession() as http:
        for headers in (forged, replayed, {"Content-Type": "application/json"}):
            async with http.post(url, data=body, headers=headers) as response:
                assert response.status == 422
    assert await rig.order_state(order_id) == "confirmed"
    assert await rig.count("billing_journal") == 0
    assert started.redirect_url
