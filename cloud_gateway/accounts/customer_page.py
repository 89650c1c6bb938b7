"""The customer's own data page (R-MON-3, R-MON-4): address, business data and VAT ID.

``GET/POST /portal/customer``. The same rules as ``PUT /api/v1/accounts/{id}/customer-data``
(:class:`~cloud_gateway.accounts.customers.CustomerService`): a business name, street or town
with characters the VAT services do not accept needs a corrected second field, shown only then;
the VAT ID is checked at once or stays pending while the service is unavailable; the page says
whether monitoring can be offered in the customer's country.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.customer_fields import (
    CUSTOMER_FIELDS,
    INPUT_TEXT_FIELDS,
    invalid_fields,
)
from cloud_gateway.accounts.customer_rules import CustomerKind, Eligibility
from cloud_gateway.accounts.customers import CustomerInput
from cloud_gateway.accounts.repository_customers import CustomerData, CustomerRepository
from cloud_gateway.http.auth import csrf_token, require_identity, verify_csrf
from cloud_gateway.http.keys import CUSTOMERS, STORE
from cloud_gateway.http.pages import render

__all__ = ["setup"]


def _values(source: CustomerData | Mapping[str, Any] | None) -> dict[str, str]:
    """Form values from what is stored or what was posted."""
    if source is None:
        return dict.fromkeys(INPUT_TEXT_FIELDS, "") | {
            "kind": CustomerKind.PRIVATE.value,
            "country": "DE",
        }
    if isinstance(source, CustomerData):
        values = {name: str(getattr(source, name)) for name in INPUT_TEXT_FIELDS}
        return values | {"kind": source.kind.value}
    return {name: str(source.get(name, "")).strip() for name in ("kind", *INPUT_TEXT_FIELDS)}


async def _page(
    request: web.Request,
    *,
    values: dict[str, str],
    stored: CustomerData | None,
    status: int = 200,
    **context: Any,
) -> web.Response:
    context.setdefault("corrections", {})
    context.setdefault("error", None)
    context.setdefault("saved", False)
    context.setdefault("eligibility", None)
    return render(
        request,
        "account_customer.html",
        {
            "csrf_token": await csrf_token(request),
            "values": values,
            "stored": stored,
            "kinds": list(CustomerKind),
            "fields": CUSTOMER_FIELDS,
            **context,
        },
        status=status,
    )


async def customer_form(request: web.Request) -> web.Response:
    """The form, filled with what is stored."""
    identity = await require_identity(request)
    stored = await request.app[STORE].repo(CustomerRepository).get(identity.account.id)
    return await _page(request, values=_values(stored), stored=stored)


async def customer_submit(request: web.Request) -> web.Response:
    """Save; corrections and missing fields keep everything that was typed."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    values = _values(form)
    stored = await request.app[STORE].repo(CustomerRepository).get(identity.account.id)
    try:
        kind = CustomerKind(values["kind"])
    except ValueError:
        return await _page(
            request, values=values, stored=stored, status=422, error="customer.err.kind"
        )
    if invalid_fields(values):
        return await _page(
            request, values=values, stored=stored, status=422, error="customer.err.missing"
        )
    entered = CustomerInput(kind=kind, **{name: values[name] for name in INPUT_TEXT_FIELDS})
    result = await request.app[CUSTOMERS].save(identity.account.id, entered)
    if result.saved is None:
        return await _page(
            request,
            values=values,
            stored=stored,
            status=422,
            corrections=result.corrections,
            error="customer.err.corrections",
        )
    eligibility = None if result.eligibility is Eligibility.ALLOWED else result.eligibility.value
    return await _page(
        request,
        values=_values(result.saved),
        stored=result.saved,
        saved=True,
        eligibility=eligibility,
    )


def setup(app: web.Application) -> None:
    """Register the page (needs ``CUSTOMERS``)."""
    app.router.add_get("/portal/customer", customer_form, name="customer_data")
    app.router.add_post("/portal/customer", customer_submit)
