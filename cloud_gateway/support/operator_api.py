"""Operator JSON routes for tickets and repair orders (the console pages: ``console_pages``).

::

    GET  /api/v1/operator/tickets                       tickets (``?status=open``)
    GET  /api/v1/operator/tickets/{id}                  one ticket with its messages
    POST /api/v1/operator/tickets/{id}/answer           {"body": "..."}: answer, mail the customer
    POST /api/v1/operator/tickets/{id}/close            close
    GET  /api/v1/operator/attachments/{id}              a ticket attachment's bytes
    GET  /api/v1/operator/repairs                       repair orders
    GET  /api/v1/operator/repairs/{id}                  one repair order
    POST /api/v1/operator/repairs/{id}/review           {"note": "..."}: start the review
    POST /api/v1/operator/repairs/{id}/quote            {"net": cents, "text": "..."}: quote
    POST /api/v1/operator/repairs/{id}/state            {"state": "paid"|"done"}

Every route is declared for role ``operator`` and guarded by the console (as the other
operator routes): logged in, the second factor passed; POSTs are JSON with the
``X-CSRF-Token`` header or a form with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import OPENAPI, SUPPORT
from cloud_gateway.http.openapi import json_body, ok, path_param
from cloud_gateway.operator.console import (
    BODY,
    OPERATORS,
    ConsoleRoute,
    RouteKind,
    add_console_routes,
)
from cloud_gateway.support import pages
from cloud_gateway.support.errors import RepairStateError, SupportError
from cloud_gateway.support.model import RepairOrder, RepairState, Ticket, TicketStatus

__all__ = ["setup"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _ticket_json(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "account_id": ticket.account_id,
        "subject": ticket.subject,
        "status": ticket.status.value,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "assignee_id": ticket.assignee_id,
        "assignee": ticket.assignee,
        "messages": [
            {
                "id": m.id,
                "author": m.author.value,
                "body": m.body,
                "created_at": m.created_at.isoformat(),
                "attachments": [
                    {"id": a.id, "filename": a.filename, "content_type": a.content_type,
                     "size": a.size}
                    for a in m.attachments
                ],
            }
            for m in ticket.messages
        ],
    }  # fmt: skip


def _repair_json(repair: RepairOrder) -> dict[str, Any]:
    return {
        "id": repair.id,
        "account_id": repair.account_id,
        "state": repair.state.value,
        "category": repair.category.value,
        "contact_name": repair.contact_name,
        "contact_email": repair.contact_email,
        "contact_phone": repair.contact_phone,
        "device_model": repair.device_model,
        "device_serial": repair.device_serial,
        "inverter_id": repair.inverter_id,
        "monitoring": repair.monitoring,
        "fault": repair.fault,
        "settings": repair.settings,
        "review_note": repair.review_note,
        "quote_net": repair.quote_net,
        "quote_text": repair.quote_text,
        "proforma_id": repair.proforma_id,
    }


def _id(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise refuse(ErrorCode.NOT_FOUND) from None


def _base_url(request: web.Request) -> str:
    return f"https://{request.host}/"


async def list_tickets(request: web.Request) -> web.Response:
    raw = request.query.get("status")
    status = TicketStatus(raw) if raw in set(TicketStatus) else None
    found = await request.app[SUPPORT].tickets(None, status)
    return web.json_response({"tickets": [_ticket_json(t) for t in found]})


async def get_ticket(request: web.Request) -> web.Response:
    found = await request.app[SUPPORT].ticket(_id(request, "ticket_id"), None)
    return web.json_response(_ticket_json(found))


async def answer_ticket(request: web.Request) -> web.Response:
    body = request[BODY]  # parsed and CSRF-checked by the console's guard
    ticket_id = _id(request, "ticket_id")
    try:
        await request.app[SUPPORT].answer(
            ticket_id, str(body.get("body", "")), base_url=_base_url(request)
        )
    except SupportError:
        raise refuse(ErrorCode.INVALID) from None
    return web.json_response(_ticket_json(await request.app[SUPPORT].ticket(ticket_id, None)))


async def close_ticket(request: web.Request) -> web.Response:
    ticket_id = _id(request, "ticket_id")
    await request.app[SUPPORT].close(ticket_id, None)
    return web.json_response(_ticket_json(await request.app[SUPPORT].ticket(ticket_id, None)))


async def get_attachment(request: web.Request) -> web.Response:
    """A customer's attachment as sent (its type sniffed when it was stored)."""
    facts, data = await request.app[SUPPORT].attachment(_id(request, "attachment_id"), None)
    return pages.attachment_response(facts, data)


async def list_repairs(request: web.Request) -> web.Response:
    found = await request.app[SUPPORT].repairs(None)
    return web.json_response({"repairs": [_repair_json(r) for r in found]})


async def get_repair(request: web.Request) -> web.Response:
    found = await request.app[SUPPORT].repair(_id(request, "repair_id"), None)
    return web.json_response(_repair_json(found))


async def repair_action(request: web.Request) -> web.Response:
    """review, quote or state, by the last path segment."""
    body = request[BODY]  # parsed and CSRF-checked by the console's guard
    repair_id = _id(request, "repair_id")
    support = request.app[SUPPORT]
    action = request.path.rsplit("/", 1)[1]
    try:
        if action == "review":
            done = await support.review(repair_id, str(body.get("note", "")))
        elif action == "quote":
            net = body.get("net")
            if not isinstance(net, int) or isinstance(net, bool):
                raise refuse(ErrorCode.INVALID)
            done = await support.quote(
                repair_id, net, str(body.get("text", "")), base_url=_base_url(request)
            )
        else:
            raw = str(body.get("state", ""))
            if raw not in (RepairState.PAID, RepairState.DONE):
                raise refuse(ErrorCode.INVALID)
            done = await support.mark(repair_id, RepairState(raw))
    except RepairStateError:
        raise refuse(ErrorCode.CONFLICT) from None
    except SupportError:
        raise refuse(ErrorCode.INVALID) from None
    return web.json_response(_repair_json(done))


_T, _R = "/api/v1/operator/tickets", "/api/v1/operator/repairs"
#: (method, path, handler, summary, JSON body properties or None)
_ROUTES: tuple[tuple[str, str, Handler, str, dict[str, str] | None], ...] = (
    ("GET", _T, list_tickets, "Tickets, newest first (?status=open|answered|closed)", None),
    ("GET", f"{_T}/{{ticket_id}}", get_ticket, "One ticket with messages and attachments", None),
    ("POST", f"{_T}/{{ticket_id}}/answer", answer_ticket,
     "Answer the ticket; the customer gets a mail", {"body": "string"}),
    ("POST", f"{_T}/{{ticket_id}}/close", close_ticket, "Close the ticket", {}),
    ("GET", "/api/v1/operator/attachments/{attachment_id}", get_attachment,
     "A ticket attachment's bytes", None),
    ("GET", _R, list_repairs, "Repair orders, newest first", None),
    ("GET", f"{_R}/{{repair_id}}", get_repair, "One repair order", None),
    ("POST", f"{_R}/{{repair_id}}/review", repair_action, "Start the internal review",
     {"note": "string"}),
    ("POST", f"{_R}/{{repair_id}}/quote", repair_action,
     "Quote net cents (19 % VAT on top); the customer gets a mail with the PDF link",
     {"net": "integer", "text": "string"}),
    ("POST", f"{_R}/{{repair_id}}/state", repair_action, "Mark the order paid or done",
     {"state": "string"}),
)  # fmt: skip


def setup(app: web.Application) -> None:
    """Register and describe the operator's ticket and repair routes."""
    add_console_routes(
        app,
        (
            ConsoleRoute(
                method, path.replace("_id}", r"_id:\d+}"), handler, OPERATORS, RouteKind.API
            )
            for method, path, handler, _, _ in _ROUTES
        ),
    )
    for method, path, _, summary, body in _ROUTES:
        operation: dict[str, Any] = {
            "summary": summary,
            "parameters": [
                path_param(seg.strip("{}")) for seg in path.split("/") if seg.startswith("{")
            ],
            "responses": ok(summary, 409, 422) if method == "POST" else ok(summary),
        }
        if body:
            operation["requestBody"] = json_body(body)
        app[OPENAPI].add(method, path, operation)
