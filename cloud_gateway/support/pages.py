"""The customer's tickets and repair orders in the portal.

::

    GET  /portal/tickets                        status overview and the new-request form
    POST /portal/tickets                        open a ticket (multipart, attachments)
    GET  /portal/tickets/{id}                   the conversation and the reply form
    POST /portal/tickets/{id}/reply             reply (multipart, attachments)
    POST /portal/tickets/{id}/close             close
    GET  /portal/attachments/{id}               an attachment of the account's ticket
    GET  /portal/repairs                        repair orders and the request form
    POST /portal/repairs                        file a repair order
    GET  /portal/repairs/{id}                   state, quote and pro-forma
    GET  /portal/repairs/{id}/quote.pdf         the quote as PDF
    POST /portal/repairs/{id}/accept            accept the quote: a bank-transfer pro-forma

A form with an error is shown again with every value typed and a message in the user's
language. Objects of another account are "not found" (404).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from cloud_gateway.billing.finalising import seller_parties
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.auth import csrf_token, require_identity, verify_csrf
from cloud_gateway.http.keys import CONFIG, STORE, SUPPORT
from cloud_gateway.http.pages import render
from cloud_gateway.i18n import request_language, translate
from cloud_gateway.shop.formats import Formats
from cloud_gateway.support import texts
from cloud_gateway.support.attachments import Upload, checked
from cloud_gateway.support.errors import AttachmentError, RepairStateError, TicketInputError
from cloud_gateway.support.model import RepairCategory, RepairState, StoredAttachment
from cloud_gateway.support.quote_pdf import render_quote
from cloud_gateway.support.service import (
    REPAIR_FIELDS,
    RepairForm,
    quote_gross,
    repair_number,
    ticket_number,
)

__all__ = ["attachment_response", "owned", "setup"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def owned(handler: Handler) -> Handler:
    """A page handler whose "not found" (another account's object) is a plain 404 page."""

    @functools.wraps(handler)
    async def page(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotFoundError:
            raise web.HTTPNotFound from None

    return page


def _id(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise web.HTTPNotFound from None


async def _multipart(request: web.Request) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    """The form's fields and its non-empty files (name, bytes), CSRF checked."""
    form = await request.post()
    await verify_csrf(request, form)
    fields: dict[str, str] = {}
    files: list[tuple[str, bytes]] = []
    for name, value in form.items():
        if isinstance(value, web.FileField):
            data = value.file.read()
            if data:
                files.append((value.filename or "attachment", data))
        else:
            fields[name] = str(value)
    return fields, files


def _uploads(files: list[tuple[str, bytes]]) -> list[Upload]:
    """The files checked by content and size (``AttachmentError`` for a refused one)."""
    return [checked(name, data) for name, data in files]


def _error_key(exc: Exception) -> str:
    if isinstance(exc, AttachmentError):
        return f"sp.error.{exc.reason}"
    if isinstance(exc, RepairStateError):
        return "sp.error.state"
    return "sp.error.missing"


async def _tickets_page(
    request: web.Request, *, error: str | None = None, values: dict[str, str] | None = None
) -> web.Response:
    identity = await require_identity(request)
    return render(
        request,
        "portal_tickets.html",
        {
            "tickets": await request.app[SUPPORT].tickets(identity.account.id),
            "csrf_token": await csrf_token(request),
            "fmt": Formats(request_language(request)),
            "number": ticket_number,
            "error": error,
            "values": values or {},
        },
        status=422 if error else 200,
    )


async def tickets(request: web.Request) -> web.Response:
    return await _tickets_page(request)


async def ticket_open(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    fields, files = await _multipart(request)
    try:
        ticket_id = await request.app[SUPPORT].open_ticket(
            identity.account.id, fields.get("subject", ""), fields.get("body", ""), _uploads(files)
        )
    except (AttachmentError, TicketInputError) as exc:
        message = translate(request_language(request), _error_key(exc))
        return await _tickets_page(request, error=message, values=fields)
    raise web.HTTPSeeOther(f"/portal/tickets/{ticket_id}")


async def _ticket_page(
    request: web.Request, *, error: str | None = None, body: str = ""
) -> web.Response:
    identity = await require_identity(request)
    ticket_id = _id(request, "ticket_id")
    ticket = await request.app[SUPPORT].ticket(ticket_id, identity.account.id)
    return render(
        request,
        "portal_ticket.html",
        {
            "ticket": ticket,
            "number": ticket_number(ticket.id),
            "csrf_token": await csrf_token(request),
            "fmt": Formats(request_language(request)),
            "error": error,
            "body": body,
        },
        status=422 if error else 200,
    )


async def ticket(request: web.Request) -> web.Response:
    return await _ticket_page(request)


async def ticket_reply(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    ticket_id = _id(request, "ticket_id")
    fields, files = await _multipart(request)
    body = fields.get("body", "")
    try:
        await request.app[SUPPORT].reply(identity.account.id, ticket_id, body, _uploads(files))
    except (AttachmentError, TicketInputError) as exc:
        message = translate(request_language(request), _error_key(exc))
        return await _ticket_page(request, error=message, body=body)
    raise web.HTTPSeeOther(f"/portal/tickets/{ticket_id}")


async def ticket_close(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    ticket_id = _id(request, "ticket_id")
    await request.app[SUPPORT].close(ticket_id, identity.account.id)
    raise web.HTTPSeeOther(f"/portal/tickets/{ticket_id}")


def attachment_response(facts: StoredAttachment, data: bytes) -> web.Response:
    """An attachment's bytes with its sniffed type; a PDF opens in the browser."""
    disposition = "inline" if facts.content_type == "application/pdf" else "attachment"
    return web.Response(
        body=data,
        content_type=facts.content_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{facts.filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def attachment(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    facts, data = await request.app[SUPPORT].attachment(
        _id(request, "attachment_id"), identity.account.id
    )
    return attachment_response(facts, data)


async def _repairs_page(
    request: web.Request, *, error: str | None = None, values: dict[str, str] | None = None
) -> web.Response:
    identity = await require_identity(request)
    support = request.app[SUPPORT]
    defaults = {"contact_name": identity.account.username, "contact_email": identity.account.email}
    return render(
        request,
        "portal_repairs.html",
        {
            "repairs": await support.repairs(identity.account.id),
            "inverters": await support.inverter_choices(identity.account.id),
            "categories": list(RepairCategory),
            "csrf_token": await csrf_token(request),
            "fmt": Formats(request_language(request)),
            "number": repair_number,
            "error": error,
            "values": values if values is not None else defaults,
            "fields": REPAIR_FIELDS,
        },
        status=422 if error else 200,
    )


async def repairs(request: web.Request) -> web.Response:
    return await _repairs_page(request)


async def repair_file(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    parsed = RepairForm.parse(form)
    try:
        repair_id = await request.app[SUPPORT].file_repair(identity.account.id, parsed)
    except TicketInputError as exc:
        lang = request_language(request)
        message = translate(lang, _error_key(exc))
        return await _repairs_page(request, error=message, values=dict(parsed.values))
    raise web.HTTPSeeOther(f"/portal/repairs/{repair_id}?filed=1")


async def _repair_page(request: web.Request, *, error: str | None = None) -> web.Response:
    identity = await require_identity(request)
    repair = await request.app[SUPPORT].repair(_id(request, "repair_id"), identity.account.id)
    proforma = None
    if repair.proforma_id is not None:
        billing = request.app[STORE].repo(BillingRepository)
        async with billing.transaction() as conn:
            document = await billing.document(conn, repair.proforma_id)
            settled = await billing.is_settled(conn, document.id)
        _seller, bank = seller_parties(request.app[CONFIG].billing)
        proforma = {"doc": document, "open": not settled, "bank": bank}
    context: dict[str, Any] = {
        "proforma": proforma,
        "repair": repair,
        "number": repair_number(repair.id),
        "steps": list(RepairState),
        "gross": quote_gross(repair.quote_net) if repair.quote_net else None,
        "csrf_token": await csrf_token(request),
        "fmt": Formats(request_language(request)),
        "filed": "filed" in request.query,
        "error": error,
    }
    return render(request, "portal_repair.html", context, status=409 if error else 200)


async def repair(request: web.Request) -> web.Response:
    return await _repair_page(request)


async def quote_pdf(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    repair = await request.app[SUPPORT].repair(_id(request, "repair_id"), identity.account.id)
    if repair.quote_net is None:
        raise web.HTTPNotFound
    seller, _bank = seller_parties(request.app[CONFIG].billing)
    pdf = render_quote(repair, seller, request_language(request).value)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="Angebot-{repair_number(repair.id)}.pdf"'
        },
    )


async def repair_accept(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    repair_id = _id(request, "repair_id")
    lang = request_language(request)
    try:
        await request.app[SUPPORT].accept(identity.account.id, repair_id, lang.value)
    except RepairStateError:
        return await _repair_page(request, error=translate(lang, "sp.error.state"))
    raise web.HTTPSeeOther(f"/portal/repairs/{repair_id}")


def setup(app: web.Application) -> None:
    """Register the ticket and repair pages."""
    texts.register()
    r = app.router
    r.add_get("/portal/tickets", owned(tickets), name="portal_tickets")
    r.add_post("/portal/tickets", owned(ticket_open))
    r.add_get(r"/portal/tickets/{ticket_id:\d+}", owned(ticket), name="portal_ticket")
    r.add_post(r"/portal/tickets/{ticket_id:\d+}/reply", owned(ticket_reply))
    r.add_post(r"/portal/tickets/{ticket_id:\d+}/close", owned(ticket_close))
    r.add_get(r"/portal/attachments/{attachment_id:\d+}", owned(attachment))
    r.add_get("/portal/repairs", owned(repairs), name="portal_repairs")
    r.add_post("/portal/repairs", owned(repair_file))
    r.add_get(r"/portal/repairs/{repair_id:\d+}", owned(repair), name="portal_repair")
    r.add_get(r"/portal/repairs/{repair_id:\d+}/quote.pdf", owned(quote_pdf))
    r.add_post(r"/portal/repairs/{repair_id:\d+}/accept", owned(repair_accept))
