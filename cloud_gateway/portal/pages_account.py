"""Master data pages: bank details (IBAN checked) and closing the account (R-POR-6)."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.http.auth import SESSION_COOKIE, csrf_token, require_identity, verify_csrf
from cloud_gateway.http.keys import ACCOUNT_CLOSURE, CLOCK, STORE
from cloud_gateway.http.pages import VIEWER, render
from cloud_gateway.i18n import request_language, translate
from cloud_gateway.portal.bank import check_bank_details
from cloud_gateway.portal.errors import ClosureRefusedError, InvalidIbanError
from cloud_gateway.portal.repository import PortalRepository

__all__ = ["setup"]


async def _bank_page(
    request: web.Request,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    saved: bool = False,
    status: int = 200,
) -> web.Response:
    identity = await require_identity(request)
    stored = await request.app[STORE].repo(PortalRepository).bank(identity.account.id)
    if values is None:
        values = (
            {"holder": stored.details.holder, "iban": stored.details.iban_display,
             "bic": stored.details.bic}
            if stored
            else {"holder": "", "iban": "", "bic": ""}
        )  # fmt: skip
    context = {
        "csrf_token": await csrf_token(request),
        "stored": stored,
        "values": values,
        "error": error,
        "saved": saved,
    }
    return render(request, "portal_bank.html", context, status=status)


async def bank_form(request: web.Request) -> web.Response:
    """The bank details for refunds."""
    return await _bank_page(request, saved=request.query.get("saved") == "1")


async def bank_submit(request: web.Request) -> web.Response:
    """Check the IBAN; store it, or show the reason with everything typed kept."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    values = {k: str(form.get(k, ""))[:200] for k in ("holder", "iban", "bic")}
    try:
        details = check_bank_details(values["holder"], values["iban"], values["bic"])
    except InvalidIbanError as exc:
        return await _bank_page(request, values=values, error=exc.reason, status=422)
    await (
        request.app[STORE]
        .repo(PortalRepository)
        .save_bank(identity.account.id, details, request.app[CLOCK].now())
    )
    raise web.HTTPSeeOther("/portal/account/bank?saved=1")


async def _close_page(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.Response:
    await require_identity(request)
    context = {"csrf_token": await csrf_token(request), "error": error}
    return render(request, "portal_close.html", context, status=status)


async def close_form(request: web.Request) -> web.Response:
    """What closing the account does, and the password to confirm it."""
    return await _close_page(request)


async def close_submit(request: web.Request) -> web.Response:
    """Close the account (password confirmed), log out, say what happened."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    try:
        await request.app[ACCOUNT_CLOSURE].close(identity.account, str(form.get("password", "")))
    except ClosureRefusedError:
        return await _close_page(request, error="close.wrong_password", status=403)
    lang = request_language(request)
    request[VIEWER] = None  # the sessions are gone: the page shows nobody logged in
    context = {
        "title": translate(lang, "close.done_title"),
        "message": translate(lang, "close.done"),
        "error": False,
        "link": "/",
        "link_text": translate(lang, "error.home"),
    }
    response = render(request, "account_message.html", context)
    response.del_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="Lax")
    return response


def setup(app: web.Application) -> None:
    """Register the pages."""
    r = app.router
    r.add_get("/portal/account/bank", bank_form, name="portal_bank")
    r.add_post("/portal/account/bank", bank_submit)
    r.add_get("/portal/account/delete", close_form, name="portal_close")
    r.add_post("/portal/account/delete", close_submit)
