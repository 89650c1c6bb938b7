"""PaymentService as the shop's PaymentPort: bank transfer, other accounts, cancelling."""

from __future__ import annotations

import aiohttp
import pytest

from cloud_gateway.billing.catalogue import PaymentMedium
from cloud_gateway.errors import NotFoundError
from cloud_gateway.payments.model import PaymentState
from cloud_gateway.payments.port import PaymentPort, PaymentStart
from tests.cloud_gateway.payments.conftest import Rig


async def test_bank_transfer_needs_no_provider_and_stores_nothing(rig: Rig) -> None:
    port: PaymentPort = rig.payments  # the shop codes against the port alone
    order_id = await rig.place()
    started = await port.start(
        order_id=order_id, account_id=rig.customer.account_id,
        method=PaymentMedium.BANK_TRANSFER, return_url="/o", cancel_url="/c", key="bank",
    )  # fmt: skip
    assert started == PaymentStart(payment_id=None, redirect_url=None)
    assert await rig.count("payments") == 0


async def test_another_accounts_order_cannot_be_paid_through_my_checkout(rig: Rig) -> None:
    order_id = await rig.place()
    with pytest.raises(NotFoundError):
        await rig.payments.start(
            order_id=order_id, account_id=rig.customer.account_id + 1,
            method=PaymentMedium.PAYPAL, return_url="/o", cancel_url="/c", key="other",
        )  # fmt: skip
    assert await rig.count("payments") == 0


async def test_a_buyer_who_cancels_on_paypal_goes_back_to_the_cart_unpaid(rig: Rig) -> None:
    order_id = await rig.place()
    started = await rig.payments.start(
        order_id=order_id, account_id=rig.customer.account_id,
        method=PaymentMedium.PAYPAL, return_url="/o", cancel_url="/shop/cart", key="k",
    )  # fmt: skip
    assert started.redirect_url is not None
    token = started.redirect_url.split("token=", 1)[1]
    async with aiohttp.ClientSession() as http:
        url = f"{rig.paypal.url}/checkoutnow/{token}/cancel"
        async with http.post(url, allow_redirects=False) as response:
            gateway = response.headers["Location"]
        async with http.get(gateway, allow_redirects=False) as response:
            assert response.headers["Location"] == "/shop/cart"
    assert await rig.order_state(order_id) == "confirmed"
    [payment] = await rig.payments.for_order(order_id)
    assert payment.state is PaymentState.PENDING
