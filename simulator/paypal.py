"""A local PayPal: OAuth2, Orders v2, Subscriptions and signed webhooks, for tests and the demo.

It imports no product package; the gateway reaches it only through HTTP, exactly as it reaches
``api-m.paypal.com``:

- ``POST /v1/oauth2/token`` (client credentials, HTTP Basic) gives a bearer token;
- ``POST /v2/checkout/orders`` creates an order (``PayPal-Request-Id`` makes a retry return
  the first answer); its ``approve`` link opens a real HTML page (``/checkoutnow?token=…``)
  where the buyer clicks "Zahlung bestätigen" and is sent to the order's ``return_url``;
  ``POST /v2/checkout/orders/{id}/capture`` takes the money (``INSTRUMENT_DECLINED`` while
  :attr:`PayPalSimulator.decline` is set);
- ``/v1/catalogs/products``, ``/v1/billing/plans``, ``/v1/billing/subscriptions``: a
  subscription has an approval page too; approving it pays the first cycle,
  :meth:`PayPalSimulator.bill_cycle` each further one (``PAYMENT.SALE.COMPLETED``), and the
  buyer's "Automatische Zahlungen" page (``/myaccount/autopay``) or the seller's
  ``POST /v1/billing/subscriptions/{id}/cancel`` cancels it (``BILLING.SUBSCRIPTION.CANCELLED``),
  as in PayPal; :attr:`PayPalSimulator.outage` makes the REST API answer 503;
- ``/v1/notifications/webhooks`` registers the listener; every event is POSTed to it signed
  like PayPal's (SHA256withRSA over ``transmission_id|transmission_time|webhook_id|crc32``,
  the certificate at ``PAYPAL-CERT-URL``), retried until answered with 2xx, optionally
  delivered several times (:attr:`PayPalSimulator.duplicates`) or held back and released in
  another order (:meth:`PayPalSimulator.hold`, :meth:`PayPalSimulator.release`);
  ``POST /v1/notifications/webhooks-events/{id}/resend`` delivers one again.

Start it with ``async with PayPalSimulator() as paypal`` (port 0: a free port) or from the
shell with ``simulator paypal``.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from simulator.hosted import HostedService
from simulator.paypal_resources import (
    Order,
    Subscription,
    capture_json,
    error,
    next_cycle_price,
    order_json,
    page,
    subscription_json,
    with_query,
)
from simulator.paypal_signing import WebhookSigner, paypal_time, signed_message

__all__ = ["PayPalSimulator", "WebhookDelivery", "signed_message"]

_LOGGER = logging.getLogger(__name__)
_CERT_ID = "CERT-SIM-1"


@dataclass
class WebhookDelivery:
    """One POST of an event to the listener, as the simulator recorded it."""

    event_id: str
    event_type: str
    status: int | None
    """The listener's HTTP status; ``None`` when it could not be reached."""


@dataclass
class PayPalSimulator(HostedService):
    """A local PayPal sandbox (see the module docstring); state lives in memory."""

    client_id: str = "sim-client"
    client_secret: str = "sim-secret"  # noqa: S105 - the simulator's documented demo secret
    decline: bool = False
    """Decline the next captures and cycle payments (``INSTRUMENT_DECLINED``)."""
    duplicates: int = 1
    """How often each webhook event is delivered (PayPal delivers at least once)."""
    outage: bool = False
    """The REST API answers 503 ``SERVICE_UNAVAILABLE`` (PayPal is down; pages still work)."""
    deliveries: list[WebhookDelivery] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Every event by id, in the order they happened."""
    webhook_url: str | None = None
    webhook_id: str = ""
    _orders: dict[str, Order] = field(default_factory=dict)
    _subscriptions: dict[str, Subscription] = field(default_factory=dict)
    _plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    _products: dict[str, dict[str, Any]] = field(default_factory=dict)
    _tokens: set[str] = field(default_factory=set)
    _requests: dict[tuple[str, str], web.Response] = field(default_factory=dict)
    _held: list[str] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self._signer = WebhookSigner()
        self.cert_pem = self._signer.cert_pem

    # --- life cycle --------------------------------------------------------------------------
    @property
    def cert_url(self) -> str:
        """Where the webhook signing certificate is served."""
        return f"{self.url}/v1/notifications/certs/{_CERT_ID}"

    def add_routes(self, r: web.UrlDispatcher) -> None:
        """PayPal's API, its pages and the simulator's own knobs."""
        r.add_post("/v1/oauth2/token", self._token)
        r.add_post("/v2/checkout/orders", self._create_order)
        r.add_get("/v2/checkout/orders/{id}", self._get_order)
        r.add_post("/v2/checkout/orders/{id}/capture", self._capture)
        r.add_get("/checkoutnow", self._approval_page)
        r.add_post("/checkoutnow/{id}/{choice}", self._approval_choice)
        r.add_post("/v1/catalogs/products", self._create_product)
        r.add_post("/v1/billing/plans", self._create_plan)
        r.add_post("/v1/billing/subscriptions", self._create_subscription)
        r.add_get("/v1/billing/subscriptions/{id}", self._get_subscription)
        r.add_post("/v1/billing/subscriptions/{id}/cancel", self._api_cancel)
        r.add_get("/webapps/billing/subscriptions", self._subscription_page)
        r.add_post("/webapps/billing/subscriptions/{id}/{choice}", self._subscription_choice)
        r.add_get("/myaccount/autopay", self._autopay_page)
        r.add_post("/myaccount/autopay/{id}/cancel", self._autopay_cancel)
        r.add_post("/v1/notifications/webhooks", self._create_webhook)
        r.add_patch("/v1/notifications/webhooks/{id}", self._update_webhook)
        r.add_post("/v1/notifications/webhooks-events/{id}/resend", self._resend)
        r.add_get(f"/v1/notifications/certs/{_CERT_ID}", self._cert)
        r.add_post("/sim/subscriptions/{id}/cycle", self._sim_cycle)

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}{secrets.token_hex(4).upper()}"

    # --- auth and idempotency ----------------------------------------------------------------
    def _down(self) -> web.Response | None:
        if not self.outage:
            return None
        return error(503, "SERVICE_UNAVAILABLE", "service unavailable, try again later")

    async def _token(self, request: web.Request) -> web.Response:
        if (down := self._down()) is not None:
            return down
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response(
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
                status=401,
            )
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        token = secrets.token_urlsafe(24)
        self._tokens.add(token)
        return web.json_response(
            {"scope": "https://uri.paypal.com/services/payments/payment", "access_token": token,
             "token_type": "Bearer", "app_id": "APP-SIM", "expires_in": 32400,
             "nonce": secrets.token_hex(8)},
        )  # fmt: skip

    def _authorised(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self._tokens

    async def _idempotent(self, request: web.Request, handler: Any, *args: Any) -> web.Response:
        """Answer a repeated ``PayPal-Request-Id`` with the first answer (PayPal's rule)."""
        if (down := self._down()) is not None:
            return down
        if not self._authorised(request):
            return error(401, "AUTHENTICATION_FAILURE", "invalid or missing token")
        request_id = request.headers.get("PayPal-Request-Id")
        slot = (request.path, request_id or "")
        if request_id and slot in self._requests:
            first = self._requests[slot]
            return web.Response(
                body=first.body, status=first.status, content_type="application/json"
            )
        response: web.Response = await handler(request, *args)
        if request_id:
            self._requests[slot] = response
        return response

    # --- orders v2 ---------------------------------------------------------------------------
    async def _create_order(self, request: web.Request) -> web.Response:
        return await self._idempotent(request, self._do_create_order)

    async def _do_create_order(self, request: web.Request) -> web.Response:
        body = await request.json()
        unit = body["purchase_units"][0]
        context = body.get("payment_source", {}).get("paypal", {}).get("experience_context", {})
        context = context or body.get("application_context", {})
        order = Order(
            id=self._id("O"),
            amount=unit["amount"]["value"],
            currency=unit["amount"]["currency_code"],
            custom_id=unit.get("custom_id", ""),
            reference_id=unit.get("reference_id", "default"),
            return_url=context.get("return_url", ""),
            cancel_url=context.get("cancel_url", ""),
        )
        self._orders[order.id] = order
        return web.json_response(order_json(order, self.url), status=201)

    async def _get_order(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return error(401, "AUTHENTICATION_FAILURE", "invalid or missing token")
        order = self._orders.get(request.match_info["id"])
        if order is None:
            return error(404, "RESOURCE_NOT_FOUND", "order not found")
        return web.json_response(order_json(order, self.url))

    async def _capture(self, request: web.Request) -> web.Response:
        return await self._idempotent(request, self._do_capture)

    async def _do_capture(self, request: web.Request) -> web.Response:
        order = self._orders.get(request.match_info["id"])
        if order is None:
            return error(404, "RESOURCE_NOT_FOUND", "order not found")
        if order.status == "COMPLETED":
            return error(422, "ORDER_ALREADY_CAPTURED", "Order already captured.")
        if order.status != "APPROVED":
            return error(422, "ORDER_NOT_APPROVED", "Payer has not yet approved the Order.")
        if self.decline:
            self._event(
                "PAYMENT.CAPTURE.DECLINED",
                "capture",
                capture_json(order, self._id("C"), "DECLINED"),
            )
            return error(422, "INSTRUMENT_DECLINED", "The instrument presented was declined.")
        order.capture = capture_json(order, self._id("C"), "COMPLETED")
        order.status = "COMPLETED"
        self._event("PAYMENT.CAPTURE.COMPLETED", "capture", order.capture)
        return web.json_response(order_json(order, self.url), status=201)

    async def _approval_page(self, request: web.Request) -> web.Response:
        order = self._orders.get(request.query.get("token", ""))
        if order is None:
            return page("Unbekannt", "<p>Diese Zahlung ist nicht bekannt.</p>")
        amount = html.escape(f"{order.amount} {order.currency}")
        return page(
            "Zahlung bestätigen",
            f"<p>Zahlung an CloudConnector</p><p class='amount'>{amount}</p>"
            f"<form method='post' action='/checkoutnow/{order.id}/approve'>"
            "<button type='submit' id='approve'>Zahlung bestätigen</button></form>"
            f"<form method='post' action='/checkoutnow/{order.id}/cancel'>"
            "<button type='submit' id='cancel'>Abbrechen und zurück</button></form>",
        )

    async def _approval_choice(self, request: web.Request) -> web.Response:
        order = self._orders.get(request.match_info["id"])
        if order is None:
            return page("Unbekannt", "<p>Diese Zahlung ist nicht bekannt.</p>")
        query = urlencode({"token": order.id, "PayerID": "SIMPAYER1"})
        if request.match_info["choice"] != "approve":
            raise web.HTTPFound(with_query(order.cancel_url, urlencode({"token": order.id})))
        if order.status == "CREATED":
            order.status = "APPROVED"
            self._event("CHECKOUT.ORDER.APPROVED", "checkout-order", order_json(order, self.url))
        raise web.HTTPFound(with_query(order.return_url, query))

    # --- subscriptions -----------------------------------------------------------------------
    async def _create_product(self, request: web.Request) -> web.Response:
        return await self._idempotent(request, self._do_create_product)

    async def _do_create_product(self, request: web.Request) -> web.Response:
        body = await request.json()
        product = {"id": body.get("id") or self._id("PROD-"), "name": body.get("name", "")}
        self._products[product["id"]] = product
        return web.json_response(product, status=201)

    async def _create_plan(self, request: web.Request) -> web.Response:
        return await self._idempotent(request, self._do_create_plan)

    async def _do_create_plan(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("product_id") not in self._products:
            return error(422, "INVALID_PRODUCT", "product not found")
        plan = dict(body, id=self._id("P-"), status="ACTIVE")
        self._plans[plan["id"]] = plan
        return web.json_response(plan, status=201)

    async def _create_subscription(self, request: web.Request) -> web.Response:
        return await self._idempotent(request, self._do_create_subscription)

    async def _do_create_subscription(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("plan_id") not in self._plans:
            return error(422, "INVALID_PLAN", "plan not found")
        context = body.get("application_context", {})
        sub = Subscription(
            id=self._id("I-"),
            plan_id=body["plan_id"],
            custom_id=body.get("custom_id", ""),
            return_url=context.get("return_url", ""),
            cancel_url=context.get("cancel_url", ""),
        )
        self._subscriptions[sub.id] = sub
        return web.json_response(subscription_json(sub, self.url), status=201)

    def _price(self, sub: Subscription) -> dict[str, str]:
        return next_cycle_price(self._plans[sub.plan_id], sub.cycles)

    async def _get_subscription(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return error(401, "AUTHENTICATION_FAILURE", "invalid or missing token")
        sub = self._subscriptions.get(request.match_info["id"])
        if sub is None:
            return error(404, "RESOURCE_NOT_FOUND", "subscription not found")
        return web.json_response(subscription_json(sub, self.url))

    async def _subscription_page(self, request: web.Request) -> web.Response:
        sub = self._subscriptions.get(request.query.get("ba_token", ""))
        if sub is None:
            return page("Unbekannt", "<p>Dieses Abonnement ist nicht bekannt.</p>")
        price = self._price(sub)
        amount = html.escape(f"{price['value']} {price['currency_code']}")
        return page(
            "Abonnement bestätigen",
            "<p>Automatische Zahlung an CloudConnector, je Laufzeit</p>"
            f"<p class='amount'>{amount}</p>"
            f"<form method='post' action='/webapps/billing/subscriptions/{sub.id}/approve'>"
            "<button type='submit' id='approve'>Zustimmen und abonnieren</button></form>"
            f"<form method='post' action='/webapps/billing/subscriptions/{sub.id}/cancel'>"
            "<button type='submit' id='cancel'>Abbrechen und zurück</button></form>",
        )

    async def _subscription_choice(self, request: web.Request) -> web.Response:
        sub = self._subscriptions.get(request.match_info["id"])
        if sub is None:
            return page("Unbekannt", "<p>Dieses Abonnement ist nicht bekannt.</p>")
        query = urlencode({"subscription_id": sub.id, "ba_token": sub.id})
        if request.match_info["choice"] != "approve":
            raise web.HTTPFound(with_query(sub.cancel_url, query))
        if sub.status == "APPROVAL_PENDING":
            sub.status = "ACTIVE"
            self._event(
                "BILLING.SUBSCRIPTION.ACTIVATED", "subscription", subscription_json(sub, self.url)
            )
            self.bill_cycle(sub.id)
        raise web.HTTPFound(with_query(sub.return_url, query))

    def bill_cycle(self, subscription_id: str) -> str | None:
        """PayPal charges the next cycle: ``PAYMENT.SALE.COMPLETED`` (or ``DENIED``).

        Returns the sale id; ``None`` when the subscription no longer renews.
        """
        sub = self._subscriptions[subscription_id]
        if sub.status != "ACTIVE":
            return None
        price = self._price(sub)
        sale = {
            "id": self._id("S-"),
            "state": "denied" if self.decline else "completed",
            "amount": {"total": price["value"], "currency": price["currency_code"]},
            "billing_agreement_id": sub.id,
            "custom": sub.custom_id,
            "create_time": paypal_time(),
        }
        if self.decline:
            self._event("PAYMENT.SALE.DENIED", "sale", sale)
        else:
            sub.cycles += 1
            self._event("PAYMENT.SALE.COMPLETED", "sale", sale)
        return str(sale["id"])

    async def _sim_cycle(self, request: web.Request) -> web.Response:
        sale = self.bill_cycle(request.match_info["id"])
        return web.json_response({"sale_id": sale})

    def subscription_status(self, subscription_id: str) -> str:
        """The subscription's status as PayPal shows it (``ACTIVE``, ``CANCELLED`` …)."""
        return self._subscriptions[subscription_id].status

    def cancel_subscription(self, subscription_id: str) -> None:
        """The buyer cancels in PayPal: no further cycles, ``BILLING.SUBSCRIPTION.CANCELLED``."""
        sub = self._subscriptions[subscription_id]
        if sub.status in ("ACTIVE", "SUSPENDED"):
            sub.status = "CANCELLED"
            self._event(
                "BILLING.SUBSCRIPTION.CANCELLED", "subscription", subscription_json(sub, self.url)
            )

    async def _api_cancel(self, request: web.Request) -> web.Response:
        """As PayPal: 204, 404 for an unknown subscription, 422 for one not active or
        suspended (cancelled or expired already, or never approved)."""
        if (down := self._down()) is not None:
            return down
        if not self._authorised(request):
            return error(401, "AUTHENTICATION_FAILURE", "invalid or missing token")
        sub = self._subscriptions.get(request.match_info["id"])
        if sub is None:
            return error(404, "RESOURCE_NOT_FOUND", "subscription not found")
        if sub.status not in ("ACTIVE", "SUSPENDED"):
            return error(
                422, "SUBSCRIPTION_STATUS_INVALID", f"subscription is {sub.status.lower()}"
            )
        self.cancel_subscription(sub.id)
        return web.Response(status=204)

    async def _autopay_page(self, _request: web.Request) -> web.Response:
        rows = "".join(
            f"<li>{html.escape(s.id)} · {html.escape(self._price(s)['value'])} "
            f"{html.escape(self._price(s)['currency_code'])} · {s.status}"
            + (
                f"<form method='post' action='/myaccount/autopay/{s.id}/cancel'>"
                f"<button type='submit' id='cancel-{s.id}'>Kündigen</button></form>"
                if s.status == "ACTIVE"
                else ""
            )
            + "</li>"
            for s in self._subscriptions.values()
        )
        return page("Automatische Zahlungen", f"<h2>Automatische Zahlungen</h2><ul>{rows}</ul>")

    async def _autopay_cancel(self, request: web.Request) -> web.Response:
        if request.match_info["id"] in self._subscriptions:
            self.cancel_subscription(request.match_info["id"])
        raise web.HTTPFound("/myaccount/autopay")

    # --- webhooks ----------------------------------------------------------------------------
    async def _create_webhook(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return error(401, "AUTHENTICATION_FAILURE", "invalid or missing token")
        body = await request.json()
        self.webhook_url = body["url"]
        self.webhook_id = self.webhook_id or self._id("WH-")
        return web.json_response(
            {"id": self.webhook_id, "url": self.webhook_url,
             "event_types": body.get("event_types", [{"name": "*"}])},
            status=201,
        )  # fmt: skip

    async def _update_webhook(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return error(401, "AUTHENTICATION_FAILURE", "invalid or missing token")
        if request.match_info["id"] != self.webhook_id:
            return error(404, "RESOURCE_NOT_FOUND", "webhook not found")
        for op in await request.json():
            if op.get("path") == "/url":
                self.webhook_url = op["value"]
        return web.json_response({"id": self.webhook_id, "url": self.webhook_url})

    def register_webhook(self, url: str) -> str:
        """Set the listener without the API (tests, the demo); returns the webhook id."""
        self.webhook_url = url
        self.webhook_id = self.webhook_id or self._id("WH-")
        return self.webhook_id

    async def _resend(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return error(401, "AUTHENTICATION_FAILURE", "invalid or missing token")
        event_id = request.match_info["id"]
        if event_id not in self.events:
            return error(404, "RESOURCE_NOT_FOUND", "event not found")
        self.resend(event_id)
        return web.json_response(self.events[event_id], status=202)

    def resend(self, event_id: str) -> None:
        """Deliver one event again (PayPal's "Resend" in the dashboard)."""
        self._spawn(event_id)

    async def _cert(self, _request: web.Request) -> web.Response:
        return web.Response(body=self.cert_pem, content_type="application/x-pem-file")

    def hold(self) -> None:
        """Keep new events back until :meth:`release` (to deliver them out of order)."""
        self._held = []

    def release(self, *, reverse: bool = False) -> None:
        """Deliver the held events, newest first with ``reverse``."""
        held, self._held = self._held or [], None
        for event_id in reversed(held) if reverse else held:
            self._spawn(event_id)

    def _event(self, event_type: str, resource_type: str, resource: dict[str, Any]) -> str:
        event_id = self._id("WH-EVT-")
        self.events[event_id] = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": paypal_time(),
            "resource_type": resource_type,
            "event_type": event_type,
            "summary": event_type.replace(".", " ").lower(),
            "resource": json.loads(json.dumps(resource)),
        }
        if self._held is not None:
            self._held.append(event_id)
        else:
            self._spawn(event_id)
        return event_id

    def _spawn(self, event_id: str) -> None:
        for _ in range(max(1, self.duplicates)):
            self.background(self._deliver(event_id))

    def signature_headers(
        self, body: bytes, *, transmission_id: str | None = None
    ) -> dict[str, str]:
        """The headers PayPal sends with ``body`` (signed with the simulator's key)."""
        return self._signer.headers(
            body,
            webhook_id=self.webhook_id,
            cert_url=self.cert_url,
            transmission_id=transmission_id,
        )

    async def _deliver(self, event_id: str) -> None:
        event = self.events[event_id]

        def attempted(status: int | None) -> None:
            self.deliveries.append(WebhookDelivery(event_id, event["event_type"], status))

        await self.post_until_answered(
            lambda: self.webhook_url, json.dumps(event).encode(), self.signature_headers, attempted
        )
