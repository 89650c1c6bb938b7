"""The port's two halves: the attempt claimed in the order's transaction, the provider after.

"Jetzt kaufen" places the order and claims its payment attempt in one transaction, before the
pro-formas take their numbers (ADR 0023); a crash before the commit leaves neither, a retry
gets the first attempt, and the provider is asked only after the commit.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cloud_gateway.billing.catalogue import BookingType, PaymentMedium
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.schema import billing_documents
from cloud_gateway.billing.service import OrderLine
from cloud_gateway.payments.model import PaymentState
from cloud_gateway.payments.port import PaymentClaim
from tests.cloud_gateway.payments.conftest import Rig

_LINE = OrderLine(product="hub-remote", plan="1m", booking=BookingType.SINGLE)


class _CrashError(Exception):
    """Stands for the process dying before the commit."""


async def _place_and_claim(rig: Rig, key: str, *, crash: bool = False) -> list[PaymentClaim]:
    """Place the order and claim its attempt in one transaction, as the shop's checkout does."""
    claims: list[PaymentClaim] = []
    async with rig.store.transaction() as unit:
        billing = rig.billing.within(unit.repo(BillingRepository))

        async def placed(order_id: int, gross: int) -> None:
            # before the numbers: the order's pro-forma is not stored yet
            stored = await unit.connection.scalar(sa.select(sa.func.count(billing_documents.c.id)))
            assert stored == 0
            claim = await rig.payments.claim(
                unit, order_id=order_id, account_id=rig.customer.account_id,
                method=PaymentMedium.PAYPAL, return_url="/o", cancel_url="/c", key=key,
                amount=gross,
            )  # fmt: skip
            claims.append(claim)

        await billing.place_order(rig.customer, [_LINE], key=key, placed=placed)
        if crash:
            raise _CrashError
    return claims


async def test_a_crash_before_the_commit_leaves_neither_order_nor_attempt(rig: Rig) -> None:
    with pytest.raises(_CrashError):
        await _place_and_claim(rig, "checkout-1", crash=True)
    assert await rig.count("billing_orders") == 0
    assert await rig.count("billing_documents") == 0
    assert await rig.count("payments") == 0
    assert await rig.count("billing_idempotency") == 0
    assert rig.paypal.events == {}  # no provider was asked


async def test_the_attempt_carries_the_orders_gross_and_a_retry_gets_it_again(rig: Rig) -> None:
    [claim] = await _place_and_claim(rig, "checkout-2")
    assert claim.answer is None  # the provider is still to be asked
    assert claim.payment_id is not None
    payment = await rig.payments.state(claim.payment_id)
    [proforma] = await rig.billing.open_proformas(payment.order_id)
    assert payment.amount == proforma.gross
    assert payment.state is PaymentState.CREATED
    started = await rig.payments.launch(claim)
    assert started.payment_id == payment.id
    assert started.redirect_url is not None
    assert started.redirect_url.startswith(rig.paypal.url)
    # "Jetzt kaufen" again with the same key: the same order, attempt and provider page
    again = await _place_and_claim(rig, "checkout-2")
    assert again == []  # the order's key was placed before: the hook does not run again
    retried = await rig.payments.start(
        order_id=payment.order_id, account_id=rig.customer.account_id,
        method=PaymentMedium.PAYPAL, return_url="/o", cancel_url="/c", key="checkout-2",
    )  # fmt: skip
    assert retried == started
    assert await rig.count("payments") == 1
    assert await rig.count("billing_orders") == 1
    # paid through PayPal: booked and activated once
    assert (await rig.approve(started.redirect_url)).startswith("/o?payment=paid")
    await rig.paypal.drain()
    await rig.exactly_once()
