"""The PayPal simulator's resources and the JSON shapes PayPal answers with.

Orders v2 orders and captures, billing subscriptions and their cycle prices, PayPal's error
body, and the simulator's HTML page frame: what :mod:`simulator.paypal` keeps in memory and
renders, without its routes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from simulator.hosted import html_page
from simulator.paypal_signing import paypal_time

__all__ = [
    "Order",
    "Subscription",
    "capture_json",
    "error",
    "next_cycle_price",
    "order_json",
    "page",
    "subscription_json",
    "with_query",
]


@dataclass
class Order:
    """An Orders v2 order as the simulator keeps it."""

    id: str
    amount: str
    currency: str
    custom_id: str
    reference_id: str
    return_url: str
    cancel_url: str
    status: str = "CREATED"
    capture: dict[str, Any] | None = None


@dataclass
class Subscription:
    """A billing subscription; ``cycles`` counts the cycles paid so far."""

    id: str
    plan_id: str
    custom_id: str
    return_url: str
    cancel_url: str
    status: str = "APPROVAL_PENDING"
    cycles: int = 0


def page(title: str, body: str) -> web.Response:
    """One of the simulator's HTML pages (approval, subscription, automatic payments)."""
    return html_page(title, f"<h1>PayPal (Simulator)</h1>{body}")


def error(status: int, name: str, message: str) -> web.Response:
    """PayPal's error body: ``name``, ``message``, ``details`` and a ``debug_id``."""
    details = [{"issue": name, "description": message}]
    return web.json_response(
        {"name": "UNPROCESSABLE_ENTITY" if status == 422 else name, "message": message,
         "details": details, "debug_id": secrets.token_hex(6)},
        status=status,
    )  # fmt: skip


def with_query(url: str, query: str) -> str:
    """``url`` with ``query`` appended (a return or cancel URL may carry its own)."""
    return f"{url}{'&' if '?' in url else '?'}{query}"


def order_json(order: Order, base_url: str) -> dict[str, Any]:
    """The order as ``GET /v2/checkout/orders/{id}`` shows it, links under ``base_url``."""
    unit: dict[str, Any] = {
        "reference_id": order.reference_id,
        "custom_id": order.custom_id,
        "amount": {"currency_code": order.currency, "value": order.amount},
    }
    if order.capture is not None:
        unit["payments"] = {"captures": [order.capture]}
    return {
        "id": order.id,
        "status": order.status,
        "intent": "CAPTURE",
        "purchase_units": [unit],
        "links": [
            {"href": f"{base_url}/v2/checkout/orders/{order.id}", "rel": "self",
             "method": "GET"},
            {"href": f"{base_url}/checkoutnow?token={order.id}", "rel": "approve",
             "method": "GET"},
            {"href": f"{base_url}/v2/checkout/orders/{order.id}/capture", "rel": "capture",
             "method": "POST"},
        ],
    }  # fmt: skip


def capture_json(order: Order, capture_id: str, status: str) -> dict[str, Any]:
    """A capture of the whole order (``COMPLETED`` or ``DECLINED``)."""
    return {
        "id": capture_id,
        "status": status,
        "amount": {"currency_code": order.currency, "value": order.amount},
        "custom_id": order.custom_id,
        "final_capture": True,
        "supplementary_data": {"related_ids": {"order_id": order.id}},
        "create_time": paypal_time(),
    }


def subscription_json(sub: Subscription, base_url: str) -> dict[str, Any]:
    """The subscription as ``GET /v1/billing/subscriptions/{id}`` shows it."""
    return {
        "id": sub.id,
        "plan_id": sub.plan_id,
        "custom_id": sub.custom_id,
        "status": sub.status,
        "billing_info": {"cycle_executions": [{"cycles_completed": sub.cycles}]},
        "links": [
            {"href": f"{base_url}/webapps/billing/subscriptions?ba_token={sub.id}",
             "rel": "approve", "method": "GET"},
            {"href": f"{base_url}/v1/billing/subscriptions/{sub.id}", "rel": "self",
             "method": "GET"},
        ],
    }  # fmt: skip


def next_cycle_price(plan: dict[str, Any], cycles_paid: int) -> dict[str, str]:
    """The fixed price of the cycle after ``cycles_paid`` (trial cycles first, by sequence).

    Raises 422 when the plan has no cycle left.
    """
    left = cycles_paid
    for cycle in sorted(plan["billing_cycles"], key=lambda c: c["sequence"]):
        count = int(cycle.get("total_cycles", 0))
        if count == 0 or left < count:
            fixed: dict[str, str] = cycle["pricing_scheme"]["fixed_price"]
            return fixed
        left -= count
    raise web.HTTPUnprocessableEntity(text="no cycle left")
