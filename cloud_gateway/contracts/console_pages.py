"""The console's credit notes and refunds page (accountants; R-OPS-2, R-BIL-10).

::

    GET  /console/credit                                 open refunds (accounts holding credit)
                                                         and the refund files; ``?account=NAME``:
                                                         its invoices and credit notes
    POST /console/credit/invoices/{id}/credit-note       reason: reverse the invoice in full
    POST /console/credit/refunds/{account_id}            holder, iban, amount (euros), reason:
                                                         pay credit back (SEPA pain.001)
    GET  /console/credit/refunds/{id}/pain001.xml        a refund's file for the bank

Money moves through the money core only: the credit note through
:meth:`BillingService.credit_note` (one per invoice: the key is the invoice's), the refund
through :meth:`ContractService.refund_to_iban` (journal entry and XSD-checked file once per
form, a double submit gets the same file). Every POST carries the form's CSRF token (the
console's guard checks it), needs a reason and is audited with the staff member. Errors
re-render the page in the user's language with the input kept.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from aiohttp import web

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.errors import BillingError
from cloud_gateway.billing.money import from_cents, typed_cents
from cloud_gateway.billing.repository_backoffice import BackOfficeRepository
from cloud_gateway.contracts.errors import ContractError
from cloud_gateway.contracts.repository import ServiceContractRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.keys import BILLING, CONTRACTS, STORE
from cloud_gateway.operator.console import (
    ACCOUNTANTS,
    BODY,
    ConsoleRoute,
    RouteKind,
    audit,
    reason_of,
)
from cloud_gateway.operator.rendering import failed_form, path_id, render_console
from cloud_gateway.portal.repository import PortalRepository

__all__ = ["ROUTES"]

_PAGE = "/console/credit"


async def _open_refunds(request: web.Request) -> list[dict[str, Any]]:
    """Accounts holding credit, each with the bank details the customer gave in the portal."""
    store = request.app[STORE]
    rows = []
    for credit in await store.repo(BackOfficeRepository).credits():
        bank = await store.repo(PortalRepository).bank(credit.account_id)
        rows.append(
            {
                "credit": credit,
                "holder": bank.details.holder if bank else "",
                "iban": bank.details.iban if bank else "",
                "euros": str(from_cents(credit.balance)),
            }
        )
    return rows


async def _page(request: web.Request, extra: dict[str, Any], *, status: int = 200) -> web.Response:
    store = request.app[STORE]
    name = str(extra.get("account_name", request.query.get("account", ""))).strip()
    account = await store.repo(AccountRepository).find_by_login(name) if name else None
    back = store.repo(BackOfficeRepository)
    context: dict[str, Any] = {
        "refunds": await _open_refunds(request),
        "files": await store.repo(ServiceContractRepository).refund_files(),
        "account_name": name,
        "account": account,
        "invoices": await back.corrections(account.id) if account else [],
        "form_key": secrets.token_urlsafe(16),
        "error": None,
        "failed": "",
        "kept": {},
        "notice": request.query.get("done", ""),
        "fresh": request.query.get("file", ""),
    }
    return await render_console(request, "console_credit.html", context | extra, status=status)


async def credit(request: web.Request) -> web.Response:
    """Open refunds, refund files and (by account) the invoices to correct."""
    return await _page(request, {})


async def credit_note(request: web.Request) -> web.StreamResponse:
    """Reverse a finalised invoice in full; the amount becomes credit on the payment account."""
    document_id = path_id(request, "document_id")
    body = request[BODY]
    name = str(body.get("account", ""))
    where, back = f"d{document_id}", {"account_name": name}
    reason = reason_of(request)
    if not reason:
        return await _page(
            request, failed_form(where, "console.reason_required", body) | back, status=422
        )
    key = f"console:credit-note:{document_id}"
    try:
        result = await request.app[BILLING].credit_note(document_id, reason, key=key)
    except NotFoundError:
        raise web.HTTPNotFound from None
    except BillingError:
        failed = failed_form(where, "console.credit.refused", body)
        return await _page(request, failed | back, status=409)
    await audit(
        request,
        "invoice.credit_note",
        f"document:{document_id}",
        reason,
        f"credit note {result['document_id']}",
    )
    raise web.HTTPSeeOther(f"{_PAGE}?done=credit_note&account={quote(name)}")


async def refund(request: web.Request) -> web.StreamResponse:
    """Pay an account's credit back: the journal's refund entry and the pain.001 file."""
    account_id = path_id(request, "account_id")
    body = request[BODY]
    where = f"a{account_id}"
    reason = reason_of(request)
    if not reason:
        return await _page(request, failed_form(where, "console.reason_required", body), status=422)
    holder = str(body.get("holder", "")).strip()[:70]
    iban = "".join(str(body.get("iban", "")).split()).upper()
    amount = typed_cents(str(body.get("amount", "")))
    if not holder or not iban or not amount:
        return await _page(request, failed_form(where, "console.credit.invalid", body), status=422)
    key = f"console:refund:{account_id}:{body.get('form_key', '')}"
    try:
        await request.app[CONTRACTS].refund_to_iban(
            account_id, iban=iban, holder=holder, amount=amount, key=key
        )
    except (ContractError, BillingError):
        return await _page(
            request, failed_form(where, "console.credit.refund_refused", body), status=409
        )
    stored = await request.app[STORE].repo(ServiceContractRepository).refund_made_with(key)
    file_id = stored.id if stored is not None else ""  # made by the call above
    detail = f"{amount} cents to {iban[:4]}…{iban[-4:]}, file {file_id}"
    await audit(request, "account.refund", f"account:{account_id}", reason, detail)
    raise web.HTTPSeeOther(f"{_PAGE}?done=refund&file={file_id}#refund-files")


async def refund_file(request: web.Request) -> web.StreamResponse:
    """A refund's SEPA credit-transfer file (pain.001.001.03) for the bank."""
    refund_id = path_id(request, "refund_id")
    try:
        stored = await request.app[STORE].repo(ServiceContractRepository).refund_file(refund_id)
    except NotFoundError:
        raise web.HTTPNotFound from None
    name = f"refund-{stored.account_id}-{stored.id}.xml"
    return web.Response(
        body=stored.pain001.encode(),
        content_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


ROUTES: tuple[ConsoleRoute, ...] = (
    ConsoleRoute("GET", _PAGE, credit, ACCOUNTANTS, RouteKind.PAGE, "console_credit"),
    ConsoleRoute(
        "POST",
        r"/console/credit/invoices/{document_id:\d+}/credit-note",
        credit_note,
        ACCOUNTANTS,
        RouteKind.PAGE,
    ),
    ConsoleRoute(
        "POST", r"/console/credit/refunds/{account_id:\d+}", refund, ACCOUNTANTS, RouteKind.PAGE
    ),
    ConsoleRoute(
        "GET",
        r"/console/credit/refunds/{refund_id:\d+}/pain001.xml",
        refund_file,
        ACCOUNTANTS,
        RouteKind.PAGE,
    ),
)
"""The console's credit notes and refunds (accountants only)."""
