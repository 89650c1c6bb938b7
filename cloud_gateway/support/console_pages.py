"""The console's ticket and repair pages (operators), on top of :class:`SupportService`.

::

    GET  /console/tickets                       the ticket queue (``?status=open``,
                                                ``&assigned=mine|unassigned``)
    GET  /console/tickets/{id}                  one ticket with the answer form
    POST /console/tickets/{id}/assign           to (``me``, an operator's name or empty for
                                                nobody), reason
    POST /console/tickets/{id}/answer           body, reason: answer (the customer gets a mail)
    POST /console/tickets/{id}/close            reason: close
    GET  /console/repairs                       repair orders with review / quote / done
    POST /console/repairs/{id}/review           note, reason
    POST /console/repairs/{id}/quote            amount (euros), text, reason: quote (PDF, mail)
    POST /console/repairs/{id}/paid             reason: paid (its pro-forma is settled)
    POST /console/repairs/{id}/done             reason: status to done

Every POST carries the form's CSRF token (checked by the console's guard), needs a reason
and is audited with the staff member; errors re-render the page with the input kept.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cloud_gateway.accounts.model import Role
from cloud_gateway.billing.money import typed_cents
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.keys import STORE, SUPPORT
from cloud_gateway.operator.console import (
    BODY,
    OPERATORS,
    STAFF,
    ConsoleRoute,
    RouteKind,
    audit,
    reason_of,
)
from cloud_gateway.operator.rendering import path_id, render_console
from cloud_gateway.operator.repository_search import ConsoleSearchRepository
from cloud_gateway.support.errors import RepairStateError, SupportError, TicketInputError
from cloud_gateway.support.model import RepairState, TicketStatus

__all__ = ["ROUTES"]


def _base_url(request: web.Request) -> str:
    return f"https://{request.host}/"


_ASSIGNED = ("mine", "unassigned")
"""The queue's assignment filters (besides all)."""


async def tickets(request: web.Request) -> web.Response:
    """The ticket queue, newest first, optionally filtered by status and assignment."""
    raw = request.query.get("status", "")
    status = TicketStatus(raw) if raw in set(TicketStatus) else None
    assigned = request.query.get("assigned", "")
    assigned = assigned if assigned in _ASSIGNED else ""
    mine = request[STAFF].account.id if assigned == "mine" else None
    found = await request.app[SUPPORT].tickets(
        None, status, assignee=mine, unassigned=assigned == "unassigned"
    )
    context = {
        "tickets": found,
        "status": raw,
        "statuses": [s.value for s in TicketStatus],
        "assigned": assigned,
        "assigned_filters": _ASSIGNED,
    }
    return await render_console(request, "console_tickets.html", context)


async def _operators(request: web.Request) -> list[str]:
    staff = await request.app[STORE].repo(ConsoleSearchRepository).staff()
    return sorted(hit.username for hit in staff if hit.role is Role.OPERATOR)


async def _ticket_page(
    request: web.Request, ticket_id: int, extra: dict[str, Any], *, status: int = 200
) -> web.Response:
    try:
        ticket = await request.app[SUPPORT].ticket(ticket_id, None)
    except NotFoundError:
        raise web.HTTPNotFound from None
    context = {
        "ticket": ticket,
        "operators": await _operators(request),
        "error": None,
        "body": "",
        "notice": request.query.get("done"),
    }
    return await render_console(request, "console_ticket.html", context | extra, status=status)


async def ticket(request: web.Request) -> web.Response:
    """One ticket with its messages and the answer form."""
    return await _ticket_page(request, path_id(request, "ticket_id"), {})


async def answer(request: web.Request) -> web.StreamResponse:
    """Answer the ticket; the service mails the customer."""
    ticket_id = path_id(request, "ticket_id")
    body = str(request[BODY].get("body", ""))
    reason = reason_of(request)
    if not body.strip():
        return await _ticket_page(
            request, ticket_id, {"error": "console.ticket.empty", "body": body}, status=422
        )
    if not reason:
        return await _ticket_page(
            request, ticket_id, {"error": "console.reason_required", "body": body}, status=422
        )
    try:
        await request.app[SUPPORT].answer(ticket_id, body, base_url=_base_url(request))
    except NotFoundError:
        raise web.HTTPNotFound from None
    except SupportError:
        return await _ticket_page(
            request, ticket_id, {"error": "console.ticket.invalid", "body": body}, status=422
        )
    await audit(request, "ticket.answer", f"ticket:{ticket_id}", reason)
    raise web.HTTPSeeOther(f"/console/tickets/{ticket_id}?done=answered")


async def close(request: web.Request) -> web.StreamResponse:
    """Close the ticket."""
    ticket_id = path_id(request, "ticket_id")
    reason = reason_of(request)
    if not reason:
        return await _ticket_page(
            request, ticket_id, {"error": "console.reason_required"}, status=422
        )
    try:
        await request.app[SUPPORT].close(ticket_id, None)
    except NotFoundError:
        raise web.HTTPNotFound from None
    await audit(request, "ticket.close", f"ticket:{ticket_id}", reason)
    raise web.HTTPSeeOther(f"/console/tickets/{ticket_id}?done=closed")


async def assign(request: web.Request) -> web.StreamResponse:
    """Give the ticket to this operator (``me``), another operator, or nobody (empty)."""
    ticket_id = path_id(request, "ticket_id")
    to = str(request[BODY].get("to", "")).strip()
    reason = reason_of(request)
    if not reason:
        return await _ticket_page(
            request, ticket_id, {"error": "console.reason_required"}, status=422
        )
    staff = request[STAFF].account
    if to == "me":
        to = staff.username
    hits = await request.app[STORE].repo(ConsoleSearchRepository).staff() if to else []
    found = {h.username: h.id for h in hits}
    invalid = {"error": "console.ticket.assignee_invalid"}
    if to and to not in found:
        return await _ticket_page(request, ticket_id, invalid, status=422)
    try:
        await request.app[SUPPORT].assign(ticket_id, found.get(to))
    except NotFoundError:
        raise web.HTTPNotFound from None
    except TicketInputError:  # not an operator
        return await _ticket_page(request, ticket_id, invalid, status=422)
    await audit(request, "ticket.assign", f"ticket:{ticket_id}", reason, to or "-")
    raise web.HTTPSeeOther(f"/console/tickets/{ticket_id}?done=assigned")


async def _repairs_page(
    request: web.Request, extra: dict[str, Any], *, status: int = 200
) -> web.Response:
    found = await request.app[SUPPORT].repairs(None)
    context: dict[str, Any] = {
        "repairs": found,
        "error": None,
        "failed_id": None,
        "kept": {},
        "notice": request.query.get("done"),
    }
    return await render_console(request, "console_repairs.html", context | extra, status=status)


async def repairs(request: web.Request) -> web.Response:
    """Repair orders, newest first, each with its next step."""
    return await _repairs_page(request, {})


async def repair_action(request: web.Request) -> web.StreamResponse:
    """review, quote, paid or done, by the path's last segment."""
    repair_id = path_id(request, "repair_id")
    action = request.path.rsplit("/", 1)[1]
    body = request[BODY]
    kept = {k: str(v) for k, v in body.items() if k != "csrf_token"}
    failed = {"failed_id": repair_id, "kept": kept}
    reason = reason_of(request)
    if not reason:
        return await _repairs_page(
            request, failed | {"error": "console.reason_required"}, status=422
        )
    support = request.app[SUPPORT]
    detail = ""
    try:
        if action == "review":
            await support.review(repair_id, str(body.get("note", "")))
        elif action == "quote":
            net = typed_cents(str(body.get("amount", "")))
            text = str(body.get("text", "")).strip()
            if not net or not text:
                return await _repairs_page(
                    request, failed | {"error": "console.repair.quote_invalid"}, status=422
                )
            await support.quote(repair_id, net, text, base_url=_base_url(request))
            detail = f"net {net} cents"
        else:  # paid (only once its pro-forma is settled) or done
            await support.mark(repair_id, RepairState(action))
    except NotFoundError:
        raise web.HTTPNotFound from None
    except (RepairStateError, SupportError):
        return await _repairs_page(request, failed | {"error": "console.repair.state"}, status=409)
    await audit(request, f"repair.{action}", f"repair:{repair_id}", reason, detail)
    raise web.HTTPSeeOther(f"/console/repairs?done={action}#repair-{repair_id}")


ROUTES: tuple[ConsoleRoute, ...] = (
    ConsoleRoute("GET", "/console/tickets", tickets, OPERATORS, RouteKind.PAGE),
    ConsoleRoute("GET", r"/console/tickets/{ticket_id:\d+}", ticket, OPERATORS, RouteKind.PAGE),
    ConsoleRoute(
        "POST", r"/console/tickets/{ticket_id:\d+}/answer", answer, OPERATORS, RouteKind.PAGE
    ),
    ConsoleRoute(
        "POST", r"/console/tickets/{ticket_id:\d+}/close", close, OPERATORS, RouteKind.PAGE
    ),
    ConsoleRoute(
        "POST", r"/console/tickets/{ticket_id:\d+}/assign", assign, OPERATORS, RouteKind.PAGE
    ),
    ConsoleRoute("GET", "/console/repairs", repairs, OPERATORS, RouteKind.PAGE),
    *(
        ConsoleRoute(
            "POST",
            rf"/console/repairs/{{repair_id:\d+}}/{step}",
            repair_action,
            OPERATORS,
            RouteKind.PAGE,
        )
        for step in ("review", "quote", "paid", "done")
    ),
)
"""The console's ticket and repair pages (operators only)."""
