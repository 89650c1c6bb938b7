"""The console's payments page (operators and accountants), on top of :class:`BankService`
and :class:`BillingService` (R-OPS-2, R-BIL-4, R-BIL-11, R-BIL-13).

::

    GET  /console/bank                                   queue, pro-formas, reservations;
                                                         ``?account=NAME``: its journal
    POST /console/bank/statements                        form upload of a camt.053 file
    POST /console/bank/transactions/{id}/assign          document_id: pays that pro-forma
    POST /console/bank/transactions/{id}/book            account: credit its payment account
    POST /console/bank/transactions/{id}/refund          note: goes back to the payer
    POST /console/bank/orders/{id}/reservations/{code}/confirm   confirm a delivery reservation
    POST /console/bank/accounts/{id}/overdraft           limit (euros): the overdraft allowance

Every POST carries the form's CSRF token (the console's guard checks it; the upload is a
multipart form whose fields the guard reads too), needs a reason and is audited with the
staff member. Errors re-render the page in the user's language with the input kept.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.banking.errors import BankingError, QueueStateError, StatementError
from cloud_gateway.banking.model import TransactionStatus
from cloud_gateway.billing.errors import BillingError
from cloud_gateway.billing.money import typed_cents
from cloud_gateway.billing.repository_backoffice import BackOfficeRepository
from cloud_gateway.contracts.texts import contract_text
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.keys import BANK, BILLING, CLOCK, STORE
from cloud_gateway.i18n import request_language
from cloud_gateway.localdays import local_date
from cloud_gateway.operator.console import (
    BODY,
    STAFF_ROLES,
    ConsoleRoute,
    RouteKind,
    audit,
    reason_of,
)
from cloud_gateway.operator.rendering import failed_form, path_id, render_console

__all__ = ["ROUTES"]

_PAGE = "/console/bank"


def _reservation_label(request: web.Request, code: str) -> str:
    """A delivery reservation's name ("Eingang Bestellformular"); an unnamed one by its code."""
    key = f"reservation.{code}"
    label = contract_text(request_language(request), key)
    return code if label == key else label


async def _page(request: web.Request, extra: dict[str, Any], *, status: int = 200) -> web.Response:
    store = request.app[STORE]
    back = store.repo(BackOfficeRepository)
    name = str(extra.get("account_name", request.query.get("account", ""))).strip()
    account = await store.repo(AccountRepository).find_by_login(name) if name else None
    context: dict[str, Any] = {
        "queue": await request.app[BANK].transactions(TransactionStatus.UNMATCHED),
        "proformas": await back.open_proformas(),
        "today": local_date(request.app[CLOCK].now()),
        "orders": await back.orders_with_reservations(),
        "account_name": name,
        "account": account,
        "ledger": await back.ledger(account.id) if account else None,
        "form_key": secrets.token_urlsafe(16),
        "summary": None,
        "error": None,
        "failed": "",
        "problem": "",
        "kept": {},
        "notice": request.query.get("done", ""),
        "reservation": lambda code: _reservation_label(request, code),
    }
    return await render_console(request, "console_bank.html", context | extra, status=status)


async def bank(request: web.Request) -> web.Response:
    """The unmatched payments, open pro-formas, reservations and (by account) the journal."""
    return await _page(request, {})


async def upload(request: web.Request) -> web.StreamResponse:
    """Import an uploaded camt.053 statement and show what happened."""
    reason = reason_of(request)
    if not reason:
        return await _page(
            request, failed_form("upload", "console.reason_required", request[BODY]), status=422
        )
    field = (await request.post()).get("file")  # read (and cached) by the guard
    if not isinstance(field, web.FileField):
        return await _page(request, failed_form("upload", "console.bank.no_file", {}), status=422)
    data = field.file.read()  # the form is bounded by the application's client_max_size
    try:
        summary = await request.app[BANK].import_statement(data, field.filename or "upload.xml")
    except StatementError as exc:
        extra = failed_form("upload", "console.bank.invalid", {}) | {"problem": exc.problem}
        return await _page(request, extra, status=422)
    await audit(
        request, "bank.upload", field.filename or "upload.xml", reason, str(summary.as_dict())
    )
    return await _page(request, {"summary": summary.as_dict()})


async def resolve(request: web.Request) -> web.StreamResponse:
    """assign, book or refund a queued payment, by the path's last segment."""
    transaction_id = path_id(request, "transaction_id")
    action = request.path.rsplit("/", 1)[1]
    body = request[BODY]
    where = f"t{transaction_id}"
    reason = reason_of(request)
    if not reason:
        return await _page(request, failed_form(where, "console.reason_required", body), status=422)
    bank = request.app[BANK]
    detail = ""
    try:
        if action == "assign":
            raw = str(body.get("document_id", ""))
            if not raw.isdigit():
                return await _page(
                    request, failed_form(where, "console.bank.target", body), status=422
                )
            await bank.assign(transaction_id, int(raw))
            detail = f"document {raw}"
        elif action == "book":
            name = str(body.get("account", "")).strip()
            account = await request.app[STORE].repo(AccountRepository).find_by_login(name)
            if account is None:
                return await _page(
                    request, failed_form(where, "console.bank.no_account", body), status=422
                )
            await bank.book_to_account(transaction_id, account.id)
            detail = f"account {account.username}"
        else:
            await bank.refund(transaction_id, str(body.get("note", ""))[:500])
    except NotFoundError:  # no longer in the queue: the message on top of the page
        return await _page(request, failed_form("", "console.bank.not_found", body), status=404)
    except QueueStateError:
        return await _page(request, failed_form("", "console.bank.resolved", body), status=409)
    except (BankingError, BillingError):
        return await _page(request, failed_form(where, "console.bank.refused", body), status=409)
    await audit(request, f"bank.{action}", f"transaction:{transaction_id}", reason, detail)
    raise web.HTTPSeeOther(f"{_PAGE}?done={action}")


async def confirm(request: web.Request) -> web.StreamResponse:
    """Confirm a delivery reservation; an order with none left activates (or is ready)."""
    order_id, code = path_id(request, "order_id"), request.match_info["code"]
    where = f"o{order_id}"
    reason = reason_of(request)
    if not reason:
        return await _page(request, failed_form(where, "console.reason_required", {}), status=422)
    key = f"operator:reservation:{order_id}:{code}"  # the operator API's key: one confirmation
    try:
        await request.app[BILLING].confirm_reservation(order_id, code, key=key)
    except NotFoundError:
        return await _page(request, failed_form("", "console.bank.not_found", {}), status=404)
    except BillingError:
        return await _page(request, failed_form("", "console.bank.refused", {}), status=409)
    await audit(request, "reservation.confirm", f"order:{order_id}", reason, code)
    raise web.HTTPSeeOther(f"{_PAGE}?done=confirm")


async def overdraft(request: web.Request) -> web.StreamResponse:
    """Set how far the account's balance may go below zero."""
    account_id = path_id(request, "account_id")
    body = request[BODY]
    name = str(body.get("account", ""))
    back = {"account_name": name}
    reason = reason_of(request)
    if not reason:
        failed = failed_form("overdraft", "console.reason_required", body)
        return await _page(request, failed | back, status=422)
    limit = typed_cents(str(body.get("limit", "")))
    if limit is None:
        failed = failed_form("overdraft", "console.bank.limit_invalid", body)
        return await _page(request, failed | back, status=422)
    key = f"console:overdraft:{body.get('form_key', '')}"
    try:
        await request.app[BILLING].set_overdraft_limit(account_id, limit, key=key)
    except (NotFoundError, BillingError):
        failed = failed_form("overdraft", "console.bank.refused", body)
        return await _page(request, failed | back, status=409)
    await audit(request, "account.overdraft", f"account:{account_id}", reason, f"{limit} cents")
    raise web.HTTPSeeOther(f"{_PAGE}?done=overdraft&account={name}")


_T = r"/console/bank/transactions/{transaction_id:\d+}"
ROUTES: tuple[ConsoleRoute, ...] = (
    ConsoleRoute("GET", _PAGE, bank, STAFF_ROLES, RouteKind.PAGE, "console_bank"),
    ConsoleRoute("POST", f"{_PAGE}/statements", upload, STAFF_ROLES, RouteKind.PAGE),
    *(
        ConsoleRoute("POST", f"{_T}/{step}", resolve, STAFF_ROLES, RouteKind.PAGE)
        for step in ("assign", "book", "refund")
    ),
    ConsoleRoute(
        "POST",
        r"/console/bank/orders/{order_id:\d+}/reservations/{code}/confirm",
        confirm,
        STAFF_ROLES,
        RouteKind.PAGE,
    ),
    ConsoleRoute(
        "POST",
        r"/console/bank/accounts/{account_id:\d+}/overdraft",
        overdraft,
        STAFF_ROLES,
        RouteKind.PAGE,
    ),
)
"""The console's payments page and its actions (operators and accountants)."""
