"""A gateway process SIGKILLed while it processes a webhook (PayPal's money captured but not
booked, or booked but not answered): PayPal delivers again to the restarted gateway and
everything exists exactly once."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from cloud_gateway.billing.catalogue import PaymentMedium
from cloud_gateway.payments.service import FAULT_ENV
from tests.cloud_gateway.payments.conftest import Rig
from tests.support.processes import ChildProcess
from tests.support.telemetry_rig import SERVING, START_TIMEOUT

pytestmark = pytest.mark.timeout(180)


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
        assert await gateway.terminate() == 0
    except BaseException:
        print(gateway.output())  # the child's log explains a failure
        raise
    finally:
        await gateway.close()
