"""Read-only JSON API of the money core under ``/api/v1/billing`` (the caller's own data).

Orders with their lines (contracts), documents (their frozen data and SHA-256; the PDF download
is added when the renderer is wired in), and the payment account (balance derived from the
journal, overdraft limit, entries).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.access import Action, ObjectKind, Resource
from cloud_gateway.billing.finalising import document_pdf as render_pdf
from cloud_gateway.billing.model import StoredContract, StoredDocument, StoredOrder
from cloud_gateway.billing.money import format_amount
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.api import api_actor, check
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import OPENAPI, STORE
from cloud_gateway.http.openapi import ok, path_param
from cloud_gateway.http.pages import Handler

__all__ = ["setup"]

_LOGGER = logging.getLogger(__name__)


def _repo(request: web.Request) -> BillingRepository:
    return request.app[STORE].repo(BillingRepository)


def _contract_json(c: StoredContract) -> dict[str, Any]:
    return {
        "id": c.id,
        "line": c.line_no,
        "product": c.product_code,
        "plan": c.plan_code,
        "booking": c.booking.value,
        "catalogue_version": c.catalogue_version,
        "state": c.state.value,
        "start": c.start_day.isoformat() if c.start_day else None,
        "paid_periods": c.paid_periods,
        "ended_on": c.ended_on.isoformat() if c.ended_on else None,
    }


def _order_json(o: StoredOrder, contracts: list[StoredContract]) -> dict[str, Any]:
    return {
        "id": o.id,
        "state": o.state.value,
        "catalogue_version": o.catalogue_version,
        "open_reservations": list(o.open_reservations),
        "created_at": o.created_at.isoformat(),
        "lines": [_contract_json(c) for c in contracts if c.order_id == o.id],
    }


def _document_json(d: StoredDocument, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.id,
        "kind": d.kind.value,
        "number": d.number,
        "issue_date": d.issue_date.isoformat(),
        "due_date": d.due_date.isoformat() if d.due_date else None,
        "net": format_amount(d.net),
        "tax": format_amount(d.tax),
        "gross": format_amount(d.gross),
        "due": format_amount(d.due),
        "payment_reference": d.payment_reference,
        "contract_id": d.contract_id,
        "sha256": d.sha256,
    }
    if full:
        out["document"] = json.loads(d.canonical)
    return out


async def list_orders(request: web.Request) -> web.Response:
    _, actor = await api_actor(request)
    repo = _repo(request)
    async with repo.transaction() as conn:
        orders = await repo.orders(conn, actor.account_id)
        contracts = [c for o in orders for c in await repo.contracts(conn, order_id=o.id)]
    return web.json_response({"orders": [_order_json(o, contracts) for o in orders]})


async def get_order(request: web.Request) -> web.Response:
    _, actor = await api_actor(request)
    repo = _repo(request)
    try:
        async with repo.transaction() as conn:
            order = await repo.order(conn, _id(request, "order_id"))
            contracts = await repo.contracts(conn, order_id=order.id)
    except NotFoundError:
        raise refuse(ErrorCode.NOT_FOUND) from None
    check(actor, Action.READ, Resource(kind=ObjectKind.ORDER, owner_account_id=order.account_id))
    return web.json_response(_order_json(order, contracts))


async def list_documents(request: web.Request) -> web.Response:
    _, actor = await api_actor(request)
    repo = _repo(request)
    async with repo.transaction() as conn:
        found = await repo.documents(conn, account_id=actor.account_id)
    return web.json_response({"documents": [_document_json(d) for d in found]})


def _document(document: StoredDocument) -> Resource:
    return Resource(kind=ObjectKind.DOCUMENT, owner_account_id=document.account_id)


async def get_document(request: web.Request) -> web.Response:
    _, actor = await api_actor(request)
    repo = _repo(request)
    try:
        async with repo.transaction() as conn:
            document = await repo.document(conn, _id(request, "document_id"))
    except NotFoundError:
        raise refuse(ErrorCode.NOT_FOUND) from None
    check(actor, Action.READ, _document(document))
    return web.json_response(_document_json(document, full=True))


async def document_pdf(request: web.Request) -> web.Response:
    """The document as PDF/A-3 with its EN 16931 XML embedded, rendered from its frozen data."""
    _, actor = await api_actor(request)
    repo = _repo(request)
    try:
        async with repo.transaction() as conn:
            document = await repo.document(conn, _id(request, "document_id"))
    except NotFoundError:
        raise refuse(ErrorCode.NOT_FOUND) from None
    check(actor, Action.READ, _document(document))
    pdf = await render_pdf(document)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{document.number}.pdf"',
            "X-Document-SHA256": document.sha256,
        },
    )


async def payment_account(request: web.Request) -> web.Response:
    _, actor = await api_actor(request)
    repo = _repo(request)
    async with repo.transaction() as conn:
        entries = await repo.journal(conn, actor.account_id)
        balance = await repo.balance(conn, actor.account_id)
        limit = await repo.overdraft_limit(conn, actor.account_id)
    return web.json_response(
        {
            "balance": format_amount(balance),
            "overdraft_limit": format_amount(limit),
            "currency": "EUR",
            "entries": [
                {
                    "id": e.id,
                    "kind": e.kind.value,
                    "amount": format_amount(e.amount),
                    "reference": e.reference,
                    "document_id": e.document_id,
                    "created_at": e.created_at.isoformat(),
                }
                for e in entries
            ],
        }
    )


def _id(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise refuse(ErrorCode.NOT_FOUND) from None


_OPERATIONS: list[tuple[str, Handler, str]] = [
    ("/api/v1/billing/orders", list_orders, "The account's orders with their lines"),
    ("/api/v1/billing/orders/{order_id}", get_order, "One order with its lines (contracts)"),
    ("/api/v1/billing/documents", list_documents, "Invoices, credit notes and pro-formas"),
    (
        "/api/v1/billing/documents/{document_id}",
        get_document,
        "One finalised document: totals, creditor reference, SHA-256 and its frozen data",
    ),
    (
        "/api/v1/billing/documents/{document_id}/pdf",
        document_pdf,
        "The document as PDF/A-3 with its EN 16931 CII XML embedded (ZUGFeRD/Factur-X)",
    ),
    (
        "/api/v1/billing/account",
        payment_account,
        "The payment account: balance (sum of the journal), overdraft limit, entries",
    ),
]


def setup(app: web.Application) -> None:
    """Register and describe the read-only billing API."""
    for path, handler, summary in _OPERATIONS:
        app.router.add_get(path, handler)
        params = [path_param(seg.strip("{}")) for seg in path.split("/") if seg.startswith("{")]
        app[OPENAPI].add(
            "GET",
            path,
            {
                "summary": summary,
                "description": summary + ". Amounts are decimal strings in EUR.",
                "tags": ["billing"],
                "parameters": params,
                "responses": ok(summary),
            },
        )
