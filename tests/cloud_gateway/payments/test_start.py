"""PaymentService as the shop's PaymentPort: bank transfer, other accounts, cancelling."""

from __future__ import annotations

import aiohttp
import pytest

from cloud_gateway.billing.catalogue import BookingType, PaymentMedium
from cloud_gateway.billing.service import OrderLine
from cloud_gateway.errors import NotFoundError
from cloud_gateway.payments.errors import PaymentError, ProviderError
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


async def test_a_late_double_click_after_paying_gets_the_first_answer(rig: Rig) -> None:
    order_id = await rig.place()
    first = await rig.payments.start(
        order_id=order_id, account_id=rig.customer.account_id,
        method=PaymentMedium.CARD, return_url="/o", cancel_url="/c", key="once",
    )  # fmt: skip
    [proforma] = await rig.billing.open_proformas(order_id)
    await rig.billing.pay_order(order_id, proforma.gross, "psp:x", key="psp:x")
    again = await rig.payments.start(
        order_id=order_id, account_id=rig.customer.account_id,
        method=PaymentMedium.CARD, return_url="/o", cancel_url="/c", key="once",
    )  # fmt: skip
    assert again == first
    with pytest.raises(PaymentError):  # a new checkout of a paid order: nothing to pay
        await rig.payments.start(
            order_id=order_id, account_id=rig.customer.account_id,
            method=PaymentMedium.CARD, return_url="/o", cancel_url="/c", key="new",
        )  # fmt: skip
    assert await rig.count("payments") == 1


async def test_a_method_the_product_does_not_allow_is_refused(rig: Rig) -> None:
    line = OrderLine(product="satellite-uplink", plan="monthly", booking=BookingType.SUBSCRIPTION)
    placed = await rig.billing.place_order(rig.customer, [line], key="sat")
    with pytest.raises(PaymentError):  # seed 004: bank transfer only
        await rig.payments.start(
            order_id=placed["order_id"], account_id=rig.customer.account_id,
            method=PaymentMedium.PAYPAL, return_url="/o", cancel_url="/c", key="sat",
        )  # fmt: skip
    assert await rig.count("payments") == 0


async def test_paypal_unreachable_refuses_the_start_and_the_same_key_retries(rig: Rig) -> None:
    order_id = await rig.place()
    secret, rig.paypal.client_secret = rig.paypal.client_secret, "rotated"
    with pytest.raises(ProviderError):
        await rig.payments.start(
            order_id=order_id, account_id=rig.customer.account_id,
            method=PaymentMedium.PAYPAL, return_url="/o", cancel_url="/c", key="retry",
        )  # fmt: skip
    rig.paypal.client_secret = secret
    started = await rig.payments.start(
        order_id=order_id, account_id=rig.customer.account_id,
        method=PaymentMedium.PAYPAL, return_url="/o", cancel_url="/c", key="retry",
    )  # fmt: skip
    assert started.redirect_url is not None
    assert await rig.count("payments") == 1
