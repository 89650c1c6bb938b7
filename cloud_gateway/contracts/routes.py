"""Web routes of the prepaid service contracts.

::

    GET  /api/v1/billing/contracts                        the customer's service contracts
    POST /api/v1/billing/contracts                        order (provider pre-check first)
    GET  /api/v1/billing/contracts/preview?…              the whole life before ordering
    GET  /api/v1/billing/contracts/{contract_id}          one contract: months, documents, journal
    GET  /portal/contracts/preview?…                      the preview as a page
    GET  /portal/contracts/{contract_id}                  the contract as a page
    POST /api/v1/operator/billing/orders/{order_id}/reservations/{code}/confirm
    POST /api/v1/operator/contracts/{contract_id}/terminate      {"at_once": bool}
    POST /api/v1/operator/documents/{document_id}/settle-from-account
    POST /api/v1/operator/accounts/{account_id}/overdraft-limit  {"limit": "500.00"}
    POST /api/v1/operator/accounts/{account_id}/refund           {"iban", "holder", "amount"?}

Customer writes need the session's CSRF token and an ``Idempotency-Key`` header; operator
writes are JSON with the ``X-CSRF-Token`` header from staff past the second factor, declared
with the console (:data:`OPERATOR_ROUTES`): the money routes serve operators and accountants,
ending a contract only operators.
Refusals carry a ``message`` in the user's language.
"""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.billing.errors import BillingError, SoldOutError, UnknownProductError
from cloud_gateway.billing.money import cents, format_amount
from cloud_gateway.billing.periods import local_date
from cloud_gateway.billing.preview import ContractPreview, preview_contract, preview_terms
from cloud_gateway.billing.rendering.labels import labels_for
from cloud_gateway.billing.service import customer_from_data
from cloud_gateway.contracts import console_pages
from cloud_gateway.contracts.errors import (
    ContractError,
    InvalidSiteError,
    PrecheckRefusedError,
    ProviderUnavailableError,
)
from cloud_gateway.contracts.provider import Site
from cloud_gateway.contracts.service import ContractView
from cloud_gateway.contracts.texts import contract_text
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.api import api_actor, input_day, read_json
from cloud_gateway.http.auth import require_identity
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import BILLING, CLOCK, CONFIG, CONTRACTS, OPENAPI, STORE
from cloud_gateway.http.openapi import OpenApi, json_body, ok, path_param
from cloud_gateway.http.pages import render
from cloud_gateway.i18n import request_language
from cloud_gateway.operator.console import (
    BODY,
    OPERATORS,
    STAFF_ROLES,
    ConsoleRoute,
    RouteKind,
    add_console_routes,
)

__all__ = ["OPERATOR_ROUTES", "setup", "view_json"]

_KEY_HEADER = "Idempotency-Key"


def _message(request: web.Request, key: str, **values: object) -> str:
    return contract_text(request_language(request), key).format(**values)


def _id(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise refuse(ErrorCode.NOT_FOUND) from None


def _conflict(exc: Exception) -> web.HTTPException:
    return refuse(ErrorCode.CONFLICT, detail=str(exc))


# --- JSON shapes ----------------------------------------------------------------------------
def view_json(view: ContractView) -> dict[str, Any]:
    """A contract as the API shows it (amounts as decimal strings)."""
    c, service = view.contract, view.service
    return {
        "id": c.id,
        "order_id": c.order_id,
        "product": c.product_code,
        "plan": c.plan_code,
        "state": c.state.value,
        "order_state": view.order.state.value,
        "open_reservations": list(view.order.open_reservations),
        "wished_start": view.order.wished_start.isoformat() if view.order.wished_start else None,
        "start": c.start_day.isoformat() if c.start_day else None,
        "ended_on": c.ended_on.isoformat() if c.ended_on else None,
        "paid_months": c.paid_periods,
        "service_number": service.service_number if service else None,
        "site": (
            {"latitude": str(service.site.latitude), "longitude": str(service.site.longitude)}
            if service
            else None
        ),
        "months": [
            {
                "month": m.index + 1,
                "first": m.first.isoformat(),
                "last": m.last.isoformat(),
                "state": m.state,
            }
            for m in view.months
        ],
        "documents": [
            {
                "id": d.id,
                "kind": d.kind.value,
                "number": d.number,
                "issue_date": d.issue_date.isoformat(),
                "due_date": d.due_date.isoformat() if d.due_date else None,
                "period": d.period,
                "net": format_amount(d.net),
                "tax": format_amount(d.tax),
                "gross": format_amount(d.gross),
                "due": format_amount(d.due),
                "payment_reference": d.payment_reference,
            }
            for d in view.documents
        ],
        "balance": format_amount(view.balance),
        "journal": [
            {
                "kind": e.kind.value,
                "amount": format_amount(e.amount),
                "reference": e.reference,
                "created_at": e.created_at.isoformat(),
            }
            for e in view.journal
        ],
    }


# --- customer API ---------------------------------------------------------------------------
async def list_contracts(request: web.Request) -> web.Response:
    _, actor = await api_actor(request)
    service = request.app[CONTRACTS]
    ids = await service.contract_ids(actor.account_id)
    views = [await service.view(i, actor.account_id) for i in ids]
    return web.json_response({"contracts": [view_json(v) for v in views]})


async def get_contract(request: web.Request) -> web.Response:
    _, actor = await api_actor(request)
    try:
        view = await request.app[CONTRACTS].view(_id(request, "contract_id"), actor.account_id)
    except NotFoundError:
        raise refuse(ErrorCode.NOT_FOUND) from None
    return web.json_response(view_json(view))


async def _site(request: web.Request, body: dict[str, Any], account_id: int) -> Site:
    try:
        if body.get("plant_id") is not None:
            return await request.app[CONTRACTS].site_of_plant(account_id, int(body["plant_id"]))
        return Site.of(body.get("latitude"), body.get("longitude"))
    except NotFoundError:
        raise refuse(ErrorCode.NOT_FOUND) from None
    except (InvalidSiteError, ValueError, TypeError):
        missing = body.get("latitude") is None or body.get("longitude") is None
        key = "error.no_site" if missing else "error.invalid_coordinates"
        raise refuse(
            ErrorCode.INVALID, fields={"site": key}, message=_message(request, key)
        ) from None


async def order_contract(request: web.Request) -> web.Response:
    """Order a service contract: pre-check, order, service number, mail (R-BIL-2, 3)."""
    _, actor = await api_actor(request)
    body = await read_json(request)
    key = request.headers.get(_KEY_HEADER, "").strip()
    if not key or not body.get("product") or not body.get("plan"):
        raise refuse(ErrorCode.MISSING_FIELDS, fields=["Idempotency-Key", "product", "plan"])
    data = await request.app[STORE].repo(CustomerRepository).get(actor.account_id)
    if data is None:
        raise refuse(
            ErrorCode.CONFLICT,
            detail="customer data missing",
            message=_message(request, "error.customer_data"),
        )
    try:
        wished = input_day(body["wished_start"]) if body.get("wished_start") else None
    except (TypeError, ValueError):
        raise refuse(ErrorCode.INVALID_DATE) from None
    if wished is not None and wished < local_date(request.app[CLOCK].now()):
        raise refuse(
            ErrorCode.INVALID,
            fields={"wished_start": "error.wished_start_past"},
            message=_message(request, "error.wished_start_past"),
        )
    site = await _site(request, body, actor.account_id)
    customer = customer_from_data(data, request_language(request).value)
    try:
        result = await request.app[CONTRACTS].order(
            customer, product=str(body["product"]), plan=str(body["plan"]), site=site,
            plant_id=int(body["plant_id"]) if body.get("plant_id") is not None else None,
            wished_start=wished, key=f"contract-order:{actor.account_id}:{key}",
        )  # fmt: skip
    except PrecheckRefusedError as exc:
        known = exc.reason in ("outside_coverage", "invalid_coordinates")
        text = (
            _message(request, f"error.{exc.reason}")
            if known
            else _message(request, "error.refused", reason=exc.reason)
        )
        raise refuse(ErrorCode.PRECHECK_REFUSED, reason=exc.reason, message=text) from None
    except ProviderUnavailableError as exc:
        text = _message(request, "error.timeout" if exc.timed_out else "error.unavailable")
        raise refuse(ErrorCode.PROVIDER_UNAVAILABLE, message=text) from None
    except UnknownProductError:
        raise refuse(ErrorCode.NOT_FOUND) from None
    except SoldOutError as exc:
        text = _message(request, "error.sold_out")
        raise refuse(ErrorCode.CONFLICT, detail=str(exc), message=text) from None
    except ContractError as exc:  # the product is no service contract
        text = _message(request, "error.not_a_service")
        raise refuse(ErrorCode.CONFLICT, detail=str(exc), message=text) from None
    except BillingError as exc:
        raise _conflict(exc) from None
    return web.json_response(result, status=201)


def _preview_args(request: web.Request) -> dict[str, Any]:
    q = request.query
    try:
        start = input_day(q["start"]) if q.get("start") else None
        terminate = input_day(q["terminate"]) if q.get("terminate") else None
        paid = int(q["paid_months"]) if q.get("paid_months") else None
    except ValueError:
        raise refuse(ErrorCode.INVALID_DATE) from None
    return {
        "product": q.get("product", "satellite-uplink"),
        "plan": q.get("plan", "monthly"),
        "start": start or local_date(request.app[CLOCK].now()),
        "paid_months": paid,
        "terminate": terminate,
        "at_once": q.get("mode") == "at_once",
        "overdraft": q.get("overdraft") in ("1", "true", "on"),
    }


def _preview(request: web.Request, args: dict[str, Any]) -> ContractPreview:
    language = request_language(request).value
    catalogues, config = request.app[CONTRACTS].catalogues, request.app[CONFIG].billing
    options = dict(args)
    try:
        product, tax = preview_terms(catalogues, config, options.pop("product"), args["start"])
        return preview_contract(product, **options, tax=tax, language=language)
    except UnknownProductError:
        raise refuse(ErrorCode.NOT_FOUND) from None
    except BillingError as exc:
        raise refuse(ErrorCode.INVALID_REQUEST, detail=str(exc)) from None


async def preview_json(request: web.Request) -> web.Response:
    """The whole life of a contract before ordering (nothing stored; no login needed)."""
    return web.json_response(_preview(request, _preview_args(request)).as_json())


# --- portal pages ---------------------------------------------------------------------------
def _page_helpers(request: web.Request) -> dict[str, Any]:
    lang = request_language(request)
    labels = labels_for(lang.value)

    def ct(key: str) -> str:
        return contract_text(lang, key)

    return {"ct": ct, "money": labels.money, "day": labels.date}


async def contract_page(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    try:
        view = await request.app[CONTRACTS].view(_id(request, "contract_id"), identity.account.id)
    except (NotFoundError, web.HTTPException):
        raise web.HTTPNotFound() from None
    return render(request, "contract_detail.html", {"view": view, **_page_helpers(request)})


async def preview_page(request: web.Request) -> web.Response:
    args = _preview_args(request)
    try:
        preview: ContractPreview | None = _preview(request, args)
        error = ""
    except web.HTTPException as exc:
        preview, error = None, str(exc.text or "")
    return render(
        request,
        "contract_preview.html",
        {"preview": preview, "args": args, "error": error, **_page_helpers(request)},
    )


# --- operator API ---------------------------------------------------------------------------
async def _operator_body(request: web.Request) -> dict[str, Any]:
    """The JSON body the console's guard parsed (role, second factor, CSRF checked)."""
    if request.content_type != "application/json":
        raise refuse(ErrorCode.INVALID_JSON)
    return request[BODY]


async def _money_answer(call: Awaitable[dict[str, Any]]) -> web.Response:
    """The money core's answer as JSON: 404 for unknown objects, 409 for refused rules."""
    try:
        return web.json_response(await call)
    except NotFoundError:
        raise refuse(ErrorCode.NOT_FOUND) from None
    except BillingError as exc:
        raise _conflict(exc) from None


async def confirm_reservation(request: web.Request) -> web.Response:
    """The back office confirms a delivery reservation (R-BIL-4); ready orders activate."""
    await _operator_body(request)
    order_id, code = _id(request, "order_id"), request.match_info["code"]
    key = f"operator:reservation:{order_id}:{code}"
    return await _money_answer(request.app[BILLING].confirm_reservation(order_id, code, key=key))


async def terminate_contract(request: web.Request) -> web.Response:
    """The supplier ends a contract at once or at period end (R-BIL-10)."""
    body = await _operator_body(request)
    contract_id = _id(request, "contract_id")
    at_once = body.get("at_once") is True
    key = f"operator:terminate:{contract_id}:{'at-once' if at_once else 'period-end'}"
    return await _money_answer(
        request.app[BILLING].terminate(contract_id, at_once=at_once, key=key)
    )


async def settle_from_account(request: web.Request) -> web.Response:
    """Special activation or extension: settle a pro-forma within the overdraft (R-BIL-11)."""
    await _operator_body(request)
    document_id = _id(request, "document_id")
    key = f"operator:settle:{document_id}"
    return await _money_answer(request.app[BILLING].settle_from_account(document_id, key=key))


def _amount(value: object) -> int:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise refuse(ErrorCode.INVALID_REQUEST, detail="amount: a decimal like 500.00") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise refuse(ErrorCode.INVALID_REQUEST, detail="amount: a decimal like 500.00")
    return cents(amount)


async def overdraft_limit(request: web.Request) -> web.Response:
    """Allow an account's balance to go down to ``-limit`` (R-BIL-11)."""
    body = await _operator_body(request)
    account_id = _id(request, "account_id")
    key = request.headers.get(_KEY_HEADER, "").strip()
    if not key or "limit" not in body:
        raise refuse(ErrorCode.MISSING_FIELDS, fields=["Idempotency-Key", "limit"])
    result = await request.app[BILLING].set_overdraft_limit(
        account_id, _amount(body["limit"]), key=f"operator:overdraft:{key}"
    )
    return web.json_response(result)


async def refund(request: web.Request) -> web.Response:
    """Pay credit back to the customer's IBAN: the pain.001 file for the bank."""
    body = await _operator_body(request)
    account_id = _id(request, "account_id")
    key = request.headers.get(_KEY_HEADER, "").strip()
    if not key or not body.get("iban") or not body.get("holder"):
        raise refuse(ErrorCode.MISSING_FIELDS, fields=["Idempotency-Key", "iban", "holder"])
    amount = _amount(body["amount"]) if body.get("amount") is not None else None
    try:
        data = await request.app[CONTRACTS].refund_to_iban(
            account_id, iban=str(body["iban"]), holder=str(body["holder"]), amount=amount,
            key=f"operator:refund:{key}",
        )  # fmt: skip
    except (ContractError, BillingError) as exc:
        raise _conflict(exc) from None
    return web.Response(
        body=data,
        content_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="refund-{account_id}.xml"'},
    )


# --- registration ---------------------------------------------------------------------------
OPERATOR_ROUTES: tuple[ConsoleRoute, ...] = (
    ConsoleRoute(
        "POST", "/api/v1/operator/billing/orders/{order_id}/reservations/{code}/confirm",
        confirm_reservation, STAFF_ROLES, RouteKind.API,
    ),
    ConsoleRoute(
        "POST", "/api/v1/operator/contracts/{contract_id}/terminate", terminate_contract,
        OPERATORS, RouteKind.API,
    ),
    ConsoleRoute(
        "POST", "/api/v1/operator/documents/{document_id}/settle-from-account",
        settle_from_account, STAFF_ROLES, RouteKind.API,
    ),
    ConsoleRoute(
        "POST", "/api/v1/operator/accounts/{account_id}/overdraft-limit", overdraft_limit,
        STAFF_ROLES, RouteKind.API,
    ),
    ConsoleRoute(
        "POST", "/api/v1/operator/accounts/{account_id}/refund", refund, STAFF_ROLES,
        RouteKind.API,
    ),
)  # fmt: skip
"""The operator API of contracts and money with the roles each route serves."""


def _describe(openapi: OpenApi) -> None:
    cid = [path_param("contract_id")]
    openapi.add("GET", "/api/v1/billing/contracts", {
        "summary": "The customer's service contracts", "tags": ["billing"],
        "responses": ok("the contracts"),
    })  # fmt: skip
    openapi.add("POST", "/api/v1/billing/contracts", {
        "summary": "Order a service contract: the provider pre-checks the site first "
        "(Idempotency-Key header)",
        "tags": ["billing"],
        "requestBody": json_body(
            {"product": "string", "plan": "string", "plant_id": "integer",
             "latitude": "string", "longitude": "string", "wished_start": "string"},
            ["product", "plan"],
        ),
        "responses": ok("order, contract, pro-forma and service number", 201, 409, 422, 503),
    })  # fmt: skip
    openapi.add("GET", "/api/v1/billing/contracts/preview", {
        "summary": "The whole life of a contract before ordering (dry run): product, plan, "
        "start, paid_months, terminate, mode=at_once|period_end, overdraft",
        "tags": ["billing"], "security": [],  # a dry run before ordering: no login needed
        "responses": ok("service days, documents, balance", 400),
    })  # fmt: skip
    openapi.add("GET", "/api/v1/billing/contracts/{contract_id}", {
        "summary": "One service contract: months, documents, payment-account journal",
        "tags": ["billing"], "parameters": cid, "responses": ok("the contract"),
    })  # fmt: skip
    operator = {
        "/api/v1/operator/billing/orders/{order_id}/reservations/{code}/confirm": (
            "Confirm a delivery reservation; a ready order is activated",
            [path_param("order_id"), path_param("code", "string")], {},
        ),
        "/api/v1/operator/contracts/{contract_id}/terminate": (
            "End a contract at once (day-precise credit) or at period end", cid,
            {"at_once": "boolean"},
        ),
        "/api/v1/operator/documents/{document_id}/settle-from-account": (
            "Settle a pro-forma from the payment account within its overdraft limit",
            [path_param("document_id")], {},
        ),
        "/api/v1/operator/accounts/{account_id}/overdraft-limit": (
            "Set the overdraft limit (Idempotency-Key header)", [path_param("account_id")],
            {"limit": "string"},
        ),
        "/api/v1/operator/accounts/{account_id}/refund": (
            "Pay credit back: SEPA credit-transfer file pain.001 (Idempotency-Key header)",
            [path_param("account_id")], {"iban": "string", "holder": "string", "amount": "string"},
        ),
    }  # fmt: skip
    for path, (summary, params, body) in operator.items():
        operation: dict[str, Any] = {
            "summary": summary, "tags": ["operator"], "parameters": params,
            "responses": ok(summary, 400, 409),
        }  # fmt: skip
        if body:
            operation["requestBody"] = json_body(body)
        openapi.add("POST", path, operation)


def setup(app: web.Application) -> None:
    """Register the service contracts' routes."""
    router = app.router
    router.add_get("/api/v1/billing/contracts", list_contracts)
    router.add_post("/api/v1/billing/contracts", order_contract)
    router.add_get("/api/v1/billing/contracts/preview", preview_json)
    router.add_get("/api/v1/billing/contracts/{contract_id}", get_contract)
    router.add_get("/portal/contracts/preview", preview_page)
    router.add_get("/portal/contracts/{contract_id}", contract_page)
    add_console_routes(app, OPERATOR_ROUTES)
    add_console_routes(app, console_pages.ROUTES)
    _describe(app[OPENAPI])
