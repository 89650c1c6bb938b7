"""PayPal's REST API: OAuth2 token, Orders v2, Subscriptions, verified webhooks.

Webhooks are verified locally, as PayPal documents it: the certificate named in
``PAYPAL-CERT-URL`` (only from the configured API host; fetched once and cached) must verify
the SHA256withRSA signature over ``transmission_id|transmission_time|webhook_id|crc32(body)``.
Anything else is refused with :class:`WebhookSignatureError`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import zlib
from collections.abc import Mapping
from typing import Any

import aiohttp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cloud_gateway.config import PaymentsConfig
from cloud_gateway.payments.errors import ProviderError, WebhookSignatureError
from cloud_gateway.payments.providers import (
    CheckoutRequest,
    Notice,
    NoticeKind,
    Outcome,
    Started,
    cents,
    decimal_amount,
)

__all__ = ["PayPalProvider"]

_LOGGER = logging.getLogger(__name__)
_TIMEOUT = aiohttp.ClientTimeout(total=15)
_SUBSCRIPTION_PREFIX = "I-"


def _link(body: dict[str, Any], rel: str) -> str:
    for link in body.get("links", []):
        if link.get("rel") in (rel, "payer-action"):
            return str(link["href"])
    raise ProviderError(f"PayPal answered without a {rel!r} link")


class PayPalProvider:
    """Orders v2 for single payments, Subscriptions for recurring ones."""

    def __init__(self, config: PaymentsConfig) -> None:
        self._config = config
        self._base = config.paypal_api_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._token: tuple[str, float] | None = None
        self._certs: dict[str, rsa.RSAPublicKey] = {}

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=_TIMEOUT)
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()

    async def _bearer(self) -> str:
        if self._token is not None and self._token[1] > time.monotonic():
            return self._token[0]
        pair = f"{self._config.paypal_client_id}:{self._config.paypal_client_secret}"
        auth = {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
        try:
            async with self._http().post(
                f"{self._base}/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                headers=auth,
            ) as response:
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ProviderError(f"PayPal token: {exc}") from exc
        if response.status != 200:
            raise ProviderError(f"PayPal token refused: {body.get('error')}")
        expires = time.monotonic() + float(body.get("expires_in", 300)) - 60
        self._token = (str(body["access_token"]), expires)
        return self._token[0]

    async def _call(
        self, method: str, path: str, payload: Any = None, *, request_id: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {await self._bearer()}"}
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        try:
            async with self._http().request(
                method, f"{self._base}{path}", json=payload, headers=headers
            ) as response:
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ProviderError(f"PayPal {path}: {exc}") from exc
        body = json.loads(text) if text else {}
        if response.status >= 500 or response.status in (401, 403):
            raise ProviderError(f"PayPal {path}: HTTP {response.status}")
        return response.status, body

    # --- PaymentProvider ---------------------------------------------------------------------
    async def create(self, request: CheckoutRequest, *, idempotency_key: str) -> Started:
        """An order (single payment) or a subscription (recurring) awaiting the buyer."""
        if request.recurring is not None:
            return await self._subscribe(request, idempotency_key)
        payload = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": request.reference,
                    "custom_id": str(request.payment_id),
                    "description": request.description[:127],
                    "amount": {
                        "currency_code": request.currency,
                        "value": decimal_amount(request.amount),
                    },
                }
            ],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": request.return_url,
                        "cancel_url": request.cancel_url,
                        "user_action": "PAY_NOW",
                        "locale": "de-DE",
                    }
                }
            },
        }
        status, body = await self._call(
            "POST", "/v2/checkout/orders", payload, request_id=idempotency_key
        )
        if status not in (200, 201):
            raise ProviderError(f"PayPal order refused: {body.get('message')}")
        return Started(provider_id=str(body["id"]), redirect_url=_link(body, "approve"))

    async def _subscribe(self, request: CheckoutRequest, key: str) -> Started:
        plan = request.recurring
        if plan is None:  # pragma: no cover - checked by the caller
            raise ProviderError("no recurring plan")
        status, product = await self._call(
            "POST",
            "/v1/catalogs/products",
            {"id": f"CC-{plan.product_code}", "name": plan.name, "type": "SERVICE"},
            request_id=f"{key}:product",
        )
        if status not in (200, 201):
            raise ProviderError(f"PayPal product refused: {product.get('message')}")

        def cycle(sequence: int, tenure: str, cycles: int, amount: int) -> dict[str, Any]:
            return {
                "frequency": {
                    "interval_unit": plan.period_unit.upper(),
                    "interval_count": plan.period_length,
                },
                "tenure_type": tenure,
                "sequence": sequence,
                "total_cycles": cycles,
                "pricing_scheme": {
                    "fixed_price": {
                        "value": decimal_amount(amount),
                        "currency_code": request.currency,
                    }
                },
            }

        cycles = [cycle(1, "REGULAR", 0, request.amount)]
        if plan.renewal_amount != request.amount:  # e.g. a voucher for the first period
            cycles = [
                cycle(1, "TRIAL", 1, request.amount),
                cycle(2, "REGULAR", 0, plan.renewal_amount),
            ]
        status, created = await self._call(
            "POST",
            "/v1/billing/plans",
            {"product_id": product["id"], "name": plan.name, "billing_cycles": cycles,
             "payment_preferences": {"auto_bill_outstanding": True}},
            request_id=f"{key}:plan",
        )  # fmt: skip
        if status not in (200, 201):
            raise ProviderError(f"PayPal plan refused: {created.get('message')}")
        status, sub = await self._call(
            "POST",
            "/v1/billing/subscriptions",
            {"plan_id": created["id"], "custom_id": str(request.payment_id),
             "application_context": {"return_url": request.return_url,
                                     "cancel_url": request.cancel_url, "locale": "de-DE",
                                     "user_action": "SUBSCRIBE_NOW"}},
            request_id=f"{key}:subscription",
        )  # fmt: skip
        if status not in (200, 201):
            raise ProviderError(f"PayPal subscription refused: {sub.get('message')}")
        return Started(provider_id=str(sub["id"]), redirect_url=_link(sub, "approve"))

    async def complete(self, provider_id: str, *, idempotency_key: str) -> Outcome:
        """Capture an approved order; a subscription's money comes by webhook."""
        if provider_id.startswith(_SUBSCRIPTION_PREFIX):
            return Outcome(kind=NoticeKind.PENDING)
        status, body = await self._call(
            "POST", f"/v2/checkout/orders/{provider_id}/capture", {}, request_id=idempotency_key
        )
        issue = (body.get("details") or [{}])[0].get("issue", "")
        if status == 422 and issue == "ORDER_ALREADY_CAPTURED":
            status, body = await self._call("GET", f"/v2/checkout/orders/{provider_id}")
        elif status == 422 and issue == "ORDER_NOT_APPROVED":
            return Outcome(kind=NoticeKind.PENDING)
        elif status == 422:
            return Outcome(kind=NoticeKind.DECLINED, message=issue or "declined")
        if status not in (200, 201):
            raise ProviderError(f"PayPal capture: HTTP {status}")
        units = body.get("purchase_units") or [{}]
        captures = units[0].get("payments", {}).get("captures", [])
        done = [c for c in captures if c.get("status") == "COMPLETED"]
        if not done:
            return Outcome(kind=NoticeKind.PENDING)
        return Outcome(
            kind=NoticeKind.PAID,
            money_id=str(done[0]["id"]),
            amount=cents(done[0]["amount"]["value"]),
        )

    async def cancel_subscription(self, provider_id: str, *, reason: str) -> None:
        """``POST /v1/billing/subscriptions/{id}/cancel``: no further cycles are charged.

        PayPal answers 204; 422 ``SUBSCRIPTION_STATUS_INVALID`` for a subscription that is not
        active or suspended (cancelled or expired already, or never approved) and 404 for one
        it does not know: nothing renews either way, so both count as done.
        """
        status, body = await self._call(
            "POST", f"/v1/billing/subscriptions/{provider_id}/cancel", {"reason": reason[:128]}
        )
        if status in (200, 204, 404, 422):
            if status != 204:
                issue = (body.get("details") or [{}])[0].get("issue", "")
                _LOGGER.info("PayPal subscription %s not cancelled: %s %s", provider_id,
                             status, issue)  # fmt: skip
            return
        raise ProviderError(f"PayPal subscription cancel: HTTP {status}")

    async def notice(self, headers: Mapping[str, str], body: bytes) -> Notice:
        """Verify the webhook's signature with PayPal's certificate, then read it."""
        await self._verify(headers, body)
        try:
            event = json.loads(body)
            return _read(event)
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookSignatureError(f"unreadable PayPal event: {exc}") from exc

    async def _verify(self, headers: Mapping[str, str], body: bytes) -> None:
        try:
            tid = headers["PAYPAL-TRANSMISSION-ID"]
            when = headers["PAYPAL-TRANSMISSION-TIME"]
            signature = base64.b64decode(headers["PAYPAL-TRANSMISSION-SIG"], validate=True)
            cert_url = headers["PAYPAL-CERT-URL"]
        except (KeyError, binascii.Error) as exc:
            raise WebhookSignatureError(f"PayPal signature headers missing: {exc}") from exc
        if headers.get("PAYPAL-AUTH-ALGO", "SHA256withRSA") != "SHA256withRSA":
            raise WebhookSignatureError("unsupported signature algorithm")
        key = await self._cert(cert_url)
        message = f"{tid}|{when}|{self._config.paypal_webhook_id}|{zlib.crc32(body)}".encode()
        try:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise WebhookSignatureError("PayPal signature does not verify") from exc

    async def _cert(self, url: str) -> rsa.RSAPublicKey:
        """PayPal's signing key, fetched only from the configured API host, cached."""
        if not url.startswith(f"{self._base}/"):
            raise WebhookSignatureError(f"certificate URL outside PayPal: {url!r}")
        if url not in self._certs:
            try:
                async with self._http().get(url) as response:
                    pem = await response.read()
                key = x509.load_pem_x509_certificate(pem).public_key()
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise WebhookSignatureError(f"PayPal certificate unavailable: {exc}") from exc
            if not isinstance(key, rsa.RSAPublicKey):
                raise WebhookSignatureError("PayPal certificate has no RSA key")
            self._certs[url] = key
        return self._certs[url]


def _read(event: dict[str, Any]) -> Notice:
    kind = str(event["event_type"])
    resource = event["resource"]
    event_id = str(event["id"])
    if kind in ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DECLINED", "PAYMENT.CAPTURE.DENIED"):
        paid = kind.endswith("COMPLETED")
        return Notice(
            event_id=event_id,
            event_type=kind,
            provider_id=str(resource["supplementary_data"]["related_ids"]["order_id"]),
            outcome=Outcome(
                kind=NoticeKind.PAID if paid else NoticeKind.DECLINED,
                money_id=str(resource["id"]),
                amount=cents(resource["amount"]["value"]),
                message="" if paid else "INSTRUMENT_DECLINED",
            ),
        )
    if kind in ("PAYMENT.SALE.COMPLETED", "PAYMENT.SALE.DENIED"):
        paid = kind.endswith("COMPLETED")
        return Notice(
            event_id=event_id,
            event_type=kind,
            provider_id=str(resource["billing_agreement_id"]),
            outcome=Outcome(
                kind=NoticeKind.PAID if paid else NoticeKind.DECLINED,
                money_id=str(resource["id"]),
                amount=cents(resource["amount"]["total"]),
                message="" if paid else "PAYMENT_DENIED",
            ),
            recurring=True,
        )
    if kind == "CHECKOUT.ORDER.APPROVED":
        outcome = Outcome(kind=NoticeKind.APPROVED)
        return Notice(
            event_id=event_id, event_type=kind, provider_id=str(resource["id"]), outcome=outcome
        )
    if kind in ("BILLING.SUBSCRIPTION.CANCELLED", "BILLING.SUBSCRIPTION.EXPIRED"):
        outcome = Outcome(kind=NoticeKind.CANCELLED)
        return Notice(
            event_id=event_id, event_type=kind, provider_id=str(resource["id"]), outcome=outcome
        )
    return Notice(
        event_id=event_id,
        event_type=kind,
        provider_id=str(resource.get("id", "")),
        outcome=Outcome(kind=NoticeKind.IGNORED),
    )
