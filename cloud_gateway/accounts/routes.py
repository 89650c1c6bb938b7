"""Login, logout and the portal overview."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.accounts.auth import (
    begin_session,
    csrf_token,
    end_session,
    require_identity,
    verify_csrf,
)
from cloud_gateway.app_keys import PASSWORDS, STORE
from cloud_gateway.i18n import request_language, translate
from cloud_gateway.web import render

__all__ = ["safe_next", "setup"]


def safe_next(target: str | None, default: str = "/portal") -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


async def login_form(request: web.Request) -> web.Response:
    """The login page."""
    return render(
        request,
        "login.html",
        {
            "csrf_token": await csrf_token(request),
            "next": safe_next(request.query.get("next")),
            "error": None,
            "login": "",
        },
    )


async def login_submit(request: web.Request) -> web.Response:
    """Check the credentials; on success rotate the session and go on."""
    form = await request.post()
    await verify_csrf(request, form)
    login = str(form.get("login", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    store = request.app[STORE]
    account = await store.accounts.find_by_login(login) if login else None
    hasher = request.app[PASSWORDS]
    if account is None or not hasher.verify(account.password_hash, password):
        lang = request_language(request)
        return render(
            request,
            "login.html",
            {
                "csrf_token": await csrf_token(request),
                "next": target,
                "error": translate(lang, "login.failed"),
                "login": login,
            },
            status=401,
        )
    response = web.HTTPSeeOther(target)
    await begin_session(request, response, account)
    raise response


async def logout(request: web.Request) -> web.Response:
    """End the session."""
    form = await request.post()
    await verify_csrf(request, form)
    response = web.HTTPSeeOther("/")
    await end_session(request, response)
    raise response


async def portal(request: web.Request) -> web.Response:
    """The customer's overview."""
    identity = await require_identity(request)
    devices = await request.app[STORE].devices.list_for_account(identity.account.id)
    return render(
        request,
        "portal.html",
        {
            "account": identity.account,
            "devices": devices,
            "csrf_token": await csrf_token(request),
        },
    )


def setup(app: web.Application) -> None:
    """Register this area's routes."""
    app.router.add_get("/login", login_form, name="login")
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/portal", portal, name="portal")
