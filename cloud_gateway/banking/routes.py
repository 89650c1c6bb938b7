"""Operator JSON API of bank transfers (the operator console's page builds on it).

::

    POST /api/v1/operator/bank/statements                    upload a camt.053 (raw XML body or
                                                             multipart field ``file``) -> summary
    GET  /api/v1/operator/bank/transactions?status=&reversal=&limit= recorded, newest first
    GET  /api/v1/operator/bank/queue                         the unmatched payments
    POST /api/v1/operator/bank/transactions/{id}/assign      {"document_id"} pays that pro-forma,
                                                             or {"account_id"} credits the account
    POST /api/v1/operator/bank/transactions/{id}/refund      {"note"} sent back to the payer

Money is for staff: operators and accountants past the second factor (401 without a
session, 403 for other roles); writes need the session's ``X-CSRF-Token`` header. The routes
are declared with the console (:func:`cloud_gateway.operator.console.add_console_routes`),
which checks all of that. Refusals carry ``message`` in the operator's language.
"""

from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web

from cloud_gateway.banking import console_pages
from cloud_gateway.banking.errors import BankingError, QueueStateError, StatementError
from cloud_gateway.banking.model import StoredTransaction, TransactionStatus
from cloud_gateway.banking.texts import bank_text
from cloud_gateway.billing.money import format_amount
from cloud_gateway.http.api import read_json
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import BANK, OPENAPI
from cloud_gateway.http.openapi import OpenApi, json_body, ok, path_param
from cloud_gateway.i18n import Language, request_language
from cloud_gateway.operator.console import (
    STAFF_ROLES,
    ConsoleRoute,
    RouteKind,
    add_console_routes,
)

__all__ = ["MAX_STATEMENT_BYTES", "ROUTES", "setup"]

#: the largest statement accepted (a day of 10,000 entries is about 15 MB)
MAX_STATEMENT_BYTES = 32 * 1024 * 1024
_MAX_ROWS = 1000
_XML_TYPES = {"application/xml", "text/xml", "application/octet-stream"}


def transaction_json(t: StoredTransaction) -> dict[str, Any]:
    """One transaction as the API shows it (amount as a decimal string)."""
    return {
        "id": t.id,
        "status": t.status.value,
        "amount": format_amount(t.amount),
        "currency": t.currency,
        "direction": t.direction.value,
        "reversal": t.reversal,
        "booking_date": t.booking_date.isoformat() if t.booking_date else None,
        "name": t.name,
        "iban": t.iban,
        "structured_reference": t.structured_reference,
        "remittance": t.remittance,
        "end_to_end_id": t.end_to_end_id,
        "account_id": t.account_id,
        "document_id": t.document_id,
        "note": t.note,
        "created_at": t.created_at.isoformat(),
        "resolved_at": t.resolved_at.isoformat() if t.resolved_at else None,
    }


async def _read_limited(read: Any, lang: Language) -> bytes:
    data = bytearray()
    while chunk := await read(64 * 1024):
        data += chunk
        if len(data) > MAX_STATEMENT_BYTES:
            limit = MAX_STATEMENT_BYTES // (1024 * 1024)
            raise refuse(
                ErrorCode.PAYLOAD_TOO_LARGE,
                message=bank_text(lang, "statement.too_large", limit=limit),
            )
    return bytes(data)


async def _statement(request: web.Request, lang: Language) -> tuple[bytes, str]:
    """The uploaded file and its name (raw XML body or the multipart field ``file``)."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name == "file":
                data = await _read_limited(part.read_chunk, lang)
                return data, part.filename or "upload.xml"
    elif request.content_type in _XML_TYPES:
        name = request.query.get("name", "upload.xml")
        return await _read_limited(request.content.read, lang), name
    raise refuse(ErrorCode.INVALID_REQUEST, message=bank_text(lang, "statement.missing"))


async def upload(request: web.Request) -> web.Response:
    """Import a camt.053 statement; the JSON summary of what happened."""
    lang = request_language(request)
    data, name = await _statement(request, lang)
    try:
        summary = await request.app[BANK].import_statement(data, name)
    except StatementError as exc:
        message = bank_text(lang, "statement.invalid", file=exc.file, problem=exc.problem)
        raise refuse(ErrorCode.INVALID_REQUEST, detail=exc.problem, message=message) from None
    return web.json_response(summary.as_dict())


async def transactions(request: web.Request) -> web.Response:
    """Recorded transactions, newest first; ``status`` and ``reversal`` filter."""
    status = request.query.get("status")
    if status is not None and status not in {s.value for s in TransactionStatus}:
        raise refuse(ErrorCode.INVALID_KIND)
    reversal = request.query.get("reversal")
    rows = await request.app[BANK].transactions(
        TransactionStatus(status) if status else None,
        reversal=None if reversal is None else reversal.lower() in {"1", "true", "yes"},
        limit=_limit(request),
    )
    return web.json_response({"transactions": [transaction_json(t) for t in rows]})


async def queue(request: web.Request) -> web.Response:
    """The payments no pro-forma was found for."""
    rows = await request.app[BANK].transactions(TransactionStatus.UNMATCHED, limit=_limit(request))
    return web.json_response({"transactions": [transaction_json(t) for t in rows]})


def _limit(request: web.Request) -> int:
    """``limit`` (1 to 1000, default 200): the newest rows."""
    raw = request.query.get("limit", "200")
    if not raw.isdigit() or not 1 <= int(raw) <= _MAX_ROWS:
        raise refuse(ErrorCode.INVALID_REQUEST, detail=f"limit must be 1 to {_MAX_ROWS}")
    return int(raw)


def _id(request: web.Request) -> int:
    try:
        return int(request.match_info["transaction_id"])
    except ValueError:
        raise refuse(ErrorCode.NOT_FOUND) from None


def _number(body: dict[str, Any], field: str) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise refuse(ErrorCode.INVALID_REQUEST, detail=f"{field} must be a number")
    return int(value)


async def assign(request: web.Request) -> web.Response:
    """Resolve a queued payment: pay a pro-forma or credit an account."""
    lang = request_language(request)
    body = await read_json(request)
    document_id, account_id = _number(body, "document_id"), _number(body, "account_id")
    bank = request.app[BANK]
    try:
        if document_id is not None:
            done = await bank.assign(_id(request), document_id)
        elif account_id is not None:
            done = await bank.book_to_account(_id(request), account_id)
        else:
            raise refuse(ErrorCode.INVALID_REQUEST, message=bank_text(lang, "queue.target"))
    except QueueStateError:
        raise refuse(ErrorCode.CONFLICT, message=bank_text(lang, "queue.resolved")) from None
    except BankingError:
        raise refuse(ErrorCode.CONFLICT, message=bank_text(lang, "queue.debit")) from None
    return web.json_response(transaction_json(done))


async def refund(request: web.Request) -> web.Response:
    """Resolve a queued payment: it goes back to the payer."""
    lang = request_language(request)
    body = await read_json(request)
    try:
        done = await request.app[BANK].refund(_id(request), str(body.get("note", ""))[:500])
    except QueueStateError:
        raise refuse(ErrorCode.CONFLICT, message=bank_text(lang, "queue.resolved")) from None
    return web.json_response(transaction_json(done))


_BASE = "/api/v1/operator/bank"
ROUTES: tuple[ConsoleRoute, ...] = (
    ConsoleRoute(
        "POST", f"{_BASE}/statements", upload, STAFF_ROLES, RouteKind.API, "bank_upload",
        own_body=True,
    ),
    ConsoleRoute("GET", f"{_BASE}/transactions", transactions, STAFF_ROLES, RouteKind.API),
    ConsoleRoute("GET", f"{_BASE}/queue", queue, STAFF_ROLES, RouteKind.API, "bank_queue"),
    ConsoleRoute(
        "POST", f"{_BASE}/transactions/{{transaction_id}}/assign", assign, STAFF_ROLES,
        RouteKind.API,
    ),
    ConsoleRoute(
        "POST", f"{_BASE}/transactions/{{transaction_id}}/refund", refund, STAFF_ROLES,
        RouteKind.API,
    ),
)  # fmt: skip
"""The bank routes with the roles they serve."""


def _describe(openapi: OpenApi) -> None:
    base = "/api/v1/operator/bank"
    tx = [path_param("transaction_id", "integer")]
    openapi.add("POST", f"{base}/statements", {
        "summary": "Import a camt.053 statement (.02/.08, XSD-checked; raw XML or multipart "
                   "'file'): counts matched, partial, surplus, late, reversed, unmatched, "
                   "duplicates",
        "responses": ok("the import's summary", 400, 413),
    })  # fmt: skip
    openapi.add("GET", f"{base}/transactions", {
        "summary": "Recorded bank transactions, newest first (status, reversal filters)",
        "responses": ok("the transactions"),
    })  # fmt: skip
    openapi.add("GET", f"{base}/queue", {
        "summary": "Unmatched payments waiting for an operator",
        "responses": ok("the queue"),
    })  # fmt: skip
    openapi.add("POST", f"{base}/transactions/{{transaction_id}}/assign", {
        "summary": "Assign a queued payment to a pro-forma (document_id) or an account's "
                   "payment account (account_id)",
        "parameters": tx,
        "requestBody": json_body({"document_id": "integer", "account_id": "integer"}),
        "responses": ok("the resolved transaction", 400, 409),
    })  # fmt: skip
    openapi.add("POST", f"{base}/transactions/{{transaction_id}}/refund", {
        "summary": "Mark a queued payment as sent back to the payer",
        "parameters": tx,
        "requestBody": json_body({"note": "string"}),
        "responses": ok("the resolved transaction", 409),
    })  # fmt: skip


def setup(app: web.Application) -> None:
    """Register the bank routes (operators and accountants)."""
    add_console_routes(app, ROUTES)
    add_console_routes(app, console_pages.ROUTES)
    _describe(app[OPENAPI])
