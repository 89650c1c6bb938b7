"""Suite test 7, money under concurrency (moved here from the payments tests, so that each
part reports its figure): 50 concurrent duplicate checkouts make one order and one payment;
a PayPal webhook storm (every event five times, then once more, newest first) activates
once; a gateway process SIGKILLed between PayPal's capture and the booking, or between the
booking and its answer, heals when PayPal delivers again to the restarted gateway: exactly
one order, payment, invoice, window and mail, and the customer's journal balanced.
The ``rig`` fixture is the payments tests' (see this folder's ``conftest.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from cloud_gateway.billing.catalogue import PaymentMedium
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.payments.model import PaymentState
from cloud_gateway.payments.service import FAULT_ENV
from tests.cloud_gateway.payments.conftest import Rig
from tests.cloud_gateway.payments.test_paypal import _start
from tests.reliability.report import pick, record
from tests.support.processes import ChildProcess
from tests.support.telemetry_rig import SERVING, START_TIMEOUT

CHECKOUTS = pick(50, 200)
"""Concurrent checkouts with one idempotency key."""
DUPLICATES = pick(5, 20)
"""How often the PayPal simulator delivers each event in the storm."""


async def _balance(rig: Rig) -> int:
    """The customer's payment-account balance (payments in, charges out): 0 when every
    payment settled exactly what was charged."""
    repo = rig.store.repo(BillingRepository)
    async with repo.transaction() as conn:
        return await repo.balance(conn, rig.customer.account_id)


pytestmark = pytest.mark.timeout(300)


async def _serve(gateway: ChildProcess, rig: Rig) -> None:
    """(Re)start the gateway process and point PayPal's webhook at it."""
    mark = gateway.mark()
    await gateway.start()
    match = await gateway.wait_for(SERVING.pattern, timeout=START_TIMEOUT, after=mark)
    rig.paypal.register_webhook(
        f"https://127.0.0.1:{match.group(1)}/api/v1/payments/paypal/webhook"
    )


@pytest.mark.parametrize("point", ["after_capture", "after_booking"])
async def test_killed_while_a_webhook_is_processed_heals_by_redelivery(
    rig: Rig, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    """Killed with PayPal's money taken but nothing booked, or right after the booking."""
    order_id = await rig.place()
    started = await rig.payments.start(
        order_id=order_id,
        account_id=rig.customer.account_id,
        method=PaymentMedium.PAYPAL,
        return_url="/shop/orders/1",
        cancel_url="/shop/cart",
        key="crash-1",
    )
    assert started.redirect_url is not None
    toml = tmp_path / "gateway.toml"
    toml.write_text(
        f'state_dir = "{tmp_path / "gw"}"\n[http]\nhost = "127.0.0.1"\nport = 0\n'
        f'[database]\nurl = "{db_url}"\n'
        "[plants]\ndemo_activation_key = true\n"
        f'[payments]\npaypal_api_url = "{rig.paypal.url}"\n'
        f'paypal_client_id = "{rig.paypal.client_id}"\n'
        f'paypal_client_secret = "{rig.paypal.client_secret}"\n'
        f'paypal_webhook_id = "{rig.paypal.webhook_id}"\n'
    )
    gateway = ChildProcess("gateway", "cloud_gateway.cli", "serve", "--config", str(toml))
    try:
        monkeypatch.setenv(FAULT_ENV, point)
        await _serve(gateway, rig)
        # the buyer approves and closes the browser: only the webhooks reach the gateway
        token = started.redirect_url.split("token=", 1)[1]
        async with aiohttp.ClientSession() as http:
            url = f"{rig.paypal.url}/checkoutnow/{token}/approve"
            async with http.post(url, allow_redirects=False) as response:
                assert response.status == 302
        assert await gateway.wait() == -9
        booked = "active" if point == "after_booking" else "confirmed"
        assert await rig.order_state(order_id) == booked
        monkeypatch.delenv(FAULT_ENV)
        await _serve(gateway, rig)
        for event_id in list(rig.paypal.events):  # and PayPal's "resend" on top of retries
            rig.paypal.resend(event_id)
        await rig.paypal.drain()
        answered = [d for d in rig.paypal.deliveries if d.status == 200]
        assert {d.event_type for d in answered} >= {
            "CHECKOUT.ORDER.APPROVED",
            "PAYMENT.CAPTURE.COMPLETED",
        }
        await rig.exactly_once()
        balance = await _balance(rig)
        assert balance == 0
        assert await gateway.terminate() == 0
        record(
            f"money-sigkill-{point.replace('_', '-')}",
            f"killed {point.replace('_', ' ')}, redelivered: 1 order, 1 payment, 1 invoice, "
            f"1 window, 1 mail, journal balance {balance} ct",
            passed=True,
        )
    except BaseException:
        print(gateway.output())  # the child's log explains a failure
        raise
    finally:
        await gateway.close()


async def test_concurrent_duplicate_checkouts_make_one_order_and_one_payment(rig: Rig) -> None:
    async def checkout() -> tuple[int, str]:
        order_id = await rig.place(key="double-click")
        return order_id, await _start(rig, order_id, key="double-click")

    results = await asyncio.gather(*(checkout() for _ in range(CHECKOUTS)))
    orders, payments = await rig.count("billing_orders"), await rig.count("payments")
    record(
        "money-duplicate-checkouts",
        f"{CHECKOUTS} concurrent checkouts -> {orders} order, {payments} payment",
        passed=(len(set(results)), orders, payments) == (1, 1, 1),
    )
    assert len(set(results)) == 1
    assert (orders, payments) == (1, 1)
    assert len(rig.paypal._orders) == 1  # the simulator's own record


async def test_webhook_storm_out_of_order_activates_exactly_once(rig: Rig) -> None:
    """The buyer approves and closes the browser: only webhooks arrive, newest first, each
    several times, then every event once more in reverse order."""
    order_id = await rig.place()
    location = await _start(rig, order_id)
    rig.paypal.duplicates = DUPLICATES
    rig.paypal.hold()
    async with aiohttp.ClientSession() as http:
        token = location.split("token=", 1)[1]
        async with http.post(
            f"{rig.paypal.url}/checkoutnow/{token}/approve", allow_redirects=False
        ):
            pass
    rig.paypal.release(reverse=True)  # only APPROVED is held; the capture follows from it
    await rig.paypal.drain()
    assert await rig.order_state(order_id) == "active"
    for event_id in reversed(list(rig.paypal.events)):  # once more, reversed: nothing new
        rig.paypal.resend(event_id)
    await rig.paypal.drain()
    await rig.exactly_once()
    [payment] = await rig.payments.for_order(order_id)
    assert payment.state is PaymentState.PAID
    balance = await _balance(rig)
    record(
        "money-webhook-storm",
        f"{len(rig.paypal.deliveries)} webhook deliveries ({DUPLICATES}x each, out of order) "
        f"-> 1 activation, journal balance {balance} ct",
        passed=balance == 0,
    )
    assert balance == 0
