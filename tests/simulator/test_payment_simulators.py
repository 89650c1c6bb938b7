"""The PayPal and PSP simulators speak their protocols: auth, idempotency, states, signatures."""

from __future__ import annotations

import base64
import json
import zlib

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from simulator.paypal import PayPalSimulator
from simulator.psp import PspSimulator, sign_notification
from tests.support.browser import chromium_context
from tests.support.processes import ChildProcess


async def _token(http: aiohttp.ClientSession, paypal: PayPalSimulator, secret: str) -> int | str:
    auth = base64.b64encode(f"{paypal.client_id}:{secret}".encode()).decode()
    async with http.post(
        f"{paypal.url}/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {auth}"},
    ) as response:
        body = await response.json()
        return str(body["access_token"]) if response.status == 200 else response.status


async def test_paypal_orders_v2_token_idempotency_and_capture_rules() -> None:
    async with PayPalSimulator() as paypal, aiohttp.ClientSession() as http:
        assert await _token(http, paypal, "wrong") == 401
        token = await _token(http, paypal, paypal.client_secret)
        headers = {"Authorization": f"Bearer {token}", "PayPal-Request-Id": "req-1"}
        order = {
            "intent": "CAPTURE",
            "purchase_units": [{"amount": {"currency_code": "EUR", "value": "3.57"}}],
            "payment_source": {"paypal": {"experience_context": {"return_url": "http://r/"}}},
        }
        ids = set()
        for _ in range(3):  # the same PayPal-Request-Id: the same order
            async with http.post(
                f"{paypal.url}/v2/checkout/orders", json=order, headers=headers
            ) as response:
                ids.add((await response.json())["id"])
        [order_id] = ids
        capture = f"{paypal.url}/v2/checkout/orders/{order_id}/capture"
        auth = {"Authorization": f"Bearer {token}"}
        async with http.post(capture, json={}, headers=auth) as response:
            body = await response.json()
            assert (response.status, body["details"][0]["issue"]) == (422, "ORDER_NOT_APPROVED")
        async with http.post(
            f"{paypal.url}/checkoutnow/{order_id}/approve", allow_redirects=False
        ) as response:
            assert response.headers["Location"].startswith("http://r/?token=")
        async with http.post(capture, json={}, headers=auth) as response:
            body = await response.json()
            assert body["status"] == "COMPLETED"
            [captured] = body["purchase_units"][0]["payments"]["captures"]
            assert captured["amount"]["value"] == "3.57"
        async with http.post(capture, json={}, headers=auth) as response:
            body = await response.json()
            assert body["details"][0]["issue"] == "ORDER_ALREADY_CAPTURED"
        assert [e["event_type"] for e in paypal.events.values()] == [
            "CHECKOUT.ORDER.APPROVED",
            "PAYMENT.CAPTURE.COMPLETED",
        ]


async def test_paypal_webhooks_are_signed_like_paypal_and_retried_until_answered() -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    answers = iter([500, 500, 200])

    async def listener(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=next(answers))

    app = web.Application()
    app.router.add_post("/hook", listener)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with PayPalSimulator(retry_delays=(0.01, 0.01, 0.01)) as paypal:
            webhook_id = paypal.register_webhook(str(server.make_url("/hook")))
            paypal._event("PAYMENT.CAPTURE.COMPLETED", "capture", {"id": "C1"})
            await paypal.drain()
            assert [d.status for d in paypal.deliveries] == [500, 500, 200]
            headers, body = received[-1]
            async with (
                aiohttp.ClientSession() as http,
                http.get(headers["PAYPAL-CERT-URL"]) as response,
            ):
                cert = x509.load_pem_x509_certificate(await response.read())
            key = cert.public_key()
            assert isinstance(key, rsa.RSAPublicKey)
            message = (
                f"{headers['PAYPAL-TRANSMISSION-ID']}|{headers['PAYPAL-TRANSMISSION-TIME']}|"
                f"{webhook_id}|{zlib.crc32(body)}"
            ).encode()
            signature = base64.b64decode(headers["PAYPAL-TRANSMISSION-SIG"])
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())  # raises if bad
            assert json.loads(body)["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
    finally:
        await server.close()


async def test_psp_checkout_is_idempotent_and_its_notification_signed() -> None:
    async with PspSimulator() as psp, aiohttp.ClientSession() as http:
        payload = {"amount": 357, "currency": "EUR", "reference": "A-1",
                   "return_url": "http://shop/r", "notify_url": "http://127.0.0.1:9/n"}  # fmt: skip
        headers = {"Authorization": f"Bearer {psp.api_key}", "Idempotency-Key": "k"}
        answers = []
        for _ in range(2):
            async with http.post(
                f"{psp.url}/api/v1/checkouts", json=payload, headers=headers
            ) as response:
                answers.append(await response.json())
        assert answers[0]["id"] == answers[1]["id"]
        async with http.post(
            f"{psp.url}/api/v1/checkouts", json=payload, headers={"Authorization": "Bearer x"}
        ) as response:
            assert response.status == 401
        body = b'{"id": "evt"}'
        signed = psp.signed(body, timestamp=1_700_000_000)
        assert signed["X-PSP-Signature"] == sign_notification(psp.secret, 1_700_000_000, body)
        assert signed["X-PSP-Signature"] != sign_notification("other", 1_700_000_000, body)


async def test_the_approval_page_works_in_chromium_at_390_px() -> None:
    async with PayPalSimulator() as paypal, aiohttp.ClientSession() as http:
        token = await _token(http, paypal, paypal.client_secret)
        order = {
            "intent": "CAPTURE",
            "purchase_units": [{"amount": {"currency_code": "EUR", "value": "29.75"}}],
            "payment_source": {
                "paypal": {"experience_context": {"return_url": f"{paypal.url}/myaccount/autopay"}}
            },
        }
        async with http.post(
            f"{paypal.url}/v2/checkout/orders",
            json=order,
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            created = await response.json()
        approve = next(link["href"] for link in created["links"] if link["rel"] == "approve")
        async with chromium_context() as context:
            page = await context.new_page()
            await page.set_viewport_size({"width": 390, "height": 800})
            await page.goto(approve)
            assert "29.75 EUR" in await page.inner_text(".amount")
            await page.click("text=Zahlung bestätigen")
            await page.wait_for_url("**/myaccount/autopay?token=*")
        assert paypal._orders[created["id"]].status == "APPROVED"


async def test_simulator_paypal_cli_prints_where_it_listens() -> None:
    async with ChildProcess("paypal", "simulator.cli", "paypal") as child:
        match = await child.wait_for(r'"paypal": "(http://[^"]+)"', timeout=30)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{match.group(1)}/myaccount/autopay") as response,
        ):
            assert "Automatische Zahlungen" in await response.text()
        child.kill()
        await child.wait()
