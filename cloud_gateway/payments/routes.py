"""The payments area's routes: where providers send the buyer and their webhooks.

::

    GET  /payments/paypal/return?payment=ID[&cancel=1]   capture, then to the shop's page
    GET  /payments/psp/return?payment=ID[&cancel=1]      book the result, then to the shop
    POST /api/v1/payments/paypal/webhook                  PayPal events (signature verified)
    POST /api/v1/payments/psp/notify                      PSP notifications (HMAC verified)

A webhook that fails verification is refused (422) and logged, never trusted. A booking
that fails for a passing reason answers 503, so the provider delivers it again.
"""

from __future__ import annotations

import logging

from aiohttp import web

from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import OPENAPI, PAYMENTS
from cloud_gateway.http.openapi import answers
from cloud_gateway.payments.errors import PaymentError, ProviderError, WebhookSignatureError

__all__ = ["setup"]

_LOGGER = logging.getLogger(__name__)


def _payment_id(request: web.Request) -> int:
    try:
        return int(request.query["payment"])
    except (KeyError, ValueError):
        raise web.HTTPNotFound(text="Unbekannte Zahlung / unknown payment") from None


async def returned(request: web.Request) -> web.Response:
    """The buyer is back from the provider's page: book it, go on to the shop's page."""
    service = request.app[PAYMENTS]
    payment_id = _payment_id(request)
    try:
        target = await service.returned(payment_id, cancelled="cancel" in request.query)
    except NotFoundError:
        raise web.HTTPNotFound(text="Unbekannte Zahlung / unknown payment") from None
    except PaymentError as exc:  # the provider is unreachable: the order stays open
        _LOGGER.warning("return of payment %d: %s", payment_id, exc)
        payment = await service.state(payment_id)
        sep = "&" if "?" in payment.return_url else "?"
        target = f"{payment.return_url}{sep}payment=error"
    raise web.HTTPSeeOther(target)


async def _webhook(request: web.Request, route: str) -> web.Response:
    if not request.app[PAYMENTS].listens(route):  # a provider this gateway does not use
        raise refuse(ErrorCode.NOT_FOUND)
    body = await request.read()
    try:
        notice = await request.app[PAYMENTS].webhook(route, request.headers, body)
    except WebhookSignatureError as exc:
        _LOGGER.warning("%s webhook refused from %s: %s", route, request.remote or "unknown", exc)
        raise refuse(ErrorCode.INVALID, reason="signature") from None
    except ProviderError as exc:
        _LOGGER.warning("%s webhook not booked yet: %s", route, exc)
        raise refuse(ErrorCode.PROVIDER_UNAVAILABLE) from None
    return web.json_response({"received": notice.event_id})


async def paypal_webhook(request: web.Request) -> web.Response:
    """PayPal's webhook listener."""
    return await _webhook(request, "paypal")


async def psp_notify(request: web.Request) -> web.Response:
    """The payment service provider's server-to-server notification."""
    return await _webhook(request, "psp")


def setup(app: web.Application) -> None:
    """Register the routes and describe the two webhook endpoints."""
    app.router.add_get("/payments/paypal/return", returned)
    app.router.add_get("/payments/psp/return", returned)
    for path, handler, summary in (
        ("/api/v1/payments/paypal/webhook", paypal_webhook, "PayPal webhook events"),
        ("/api/v1/payments/psp/notify", psp_notify, "Payment service provider notifications"),
    ):
        app.router.add_post(path, handler)
        app[OPENAPI].add(
            "POST",
            path,
            {
                "summary": summary,
                "description": summary + "; refused (422) unless signed by the provider, "
                "404 where the provider is not configured, 503 while it cannot be asked.",
                "tags": ["payments"],
                "security": [],  # the provider's signature, never a session
                "responses": answers("booked (or already booked)", 404, 422, 503),
            },
        )
