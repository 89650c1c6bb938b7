"""The shop to PayPal and back in Debian's chromium: a subscription with a voucher, approved
on PayPal's page, captured by the first cycle, active on the order page (390 px)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_gateway.config import GatewayConfig, PaymentsConfig
from simulator.paypal import PayPalSimulator
from tests.cloud_gateway.shop.shopping import give_customer_data, issue_vouchers, validate
from tests.support.browser import chromium_context
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

pytestmark = pytest.mark.browser


async def test_a_subscription_with_a_voucher_booked_and_paid_through_paypal(
    tmp_path: Path, clock: ManualClock
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with PayPalSimulator() as paypal:
        paypal.webhook_id = "WH-BROWSER"
        config = GatewayConfig(
            payments=PaymentsConfig(
                paypal_api_url=paypal.url,
                paypal_client_id=paypal.client_id,
                paypal_client_secret=paypal.client_secret,
                paypal_webhook_id=paypal.webhook_id,
            )
        )
        async with (
            gateway_harness(tmp_path, db_url, clock, config) as gw,
            chromium_context() as ctx,
        ):
            paypal.register_webhook(gw.url + "api/v1/payments/paypal/webhook")
            anna = await gw.create_account("anna")
            await give_customer_data(gw, anna.id, "Anna Sonne")
            await issue_vouchers(gw)
            page = await ctx.new_page()
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.goto(gw.url + "login")
            await page.fill("input[name=login]", "anna")
            await page.fill("input[name=password]", "Sonnig!2026")
            await page.click("button[type=submit]")
            await page.wait_for_url("**/portal")

            await page.goto(gw.url + "shop/products")
            await page.click('[data-product="hub-comfort"] a.button')
            await page.check('input[name=plan][value="12m"]')
            await page.check('input[name=booking][value="subscription"]')
            await page.click("#add-to-cart")
            await page.wait_for_url("**/shop/cart")
            await page.fill("#voucher-input", "CCU10")
            await page.click("#redeem")
            await page.wait_for_selector("#cart-notice")
            assert await page.get_attribute("#cart-total", "data-cents") == "5141"
            await page.click("#buy")
            await page.wait_for_url("**/shop/checkout")
            await page.check('input[name=method][value="paypal"]')
            await page.click("#buy-now")

            # PayPal's page: the amount, "Zustimmen und abonnieren"
            await page.wait_for_url(paypal.url + "/webapps/billing/subscriptions**")
            assert "51.41 EUR" in await page.inner_text(".amount")
            await page.click("#approve")
            await page.wait_for_url("**/shop/orders/*")
            await paypal.drain()  # the first cycle's sale reached the gateway
            await page.reload()
            assert await page.get_attribute("#order-status", "data-status") == "active"
            assert await page.inner_text("#order-total") == "51,41\xa0€"
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390
            sales = [
                e for e in paypal.events.values() if e["event_type"] == "PAYMENT.SALE.COMPLETED"
            ]
            assert [s["resource"]["amount"]["total"] for s in sales] == ["51.41"]
            assert await validate(gw.gateway.store) >= 2  # pro-formas and the invoice
