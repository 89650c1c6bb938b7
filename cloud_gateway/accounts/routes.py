"""Login, logout and the portal overview."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.accounts import api, customer_page, flows, texts
from cloud_gateway.accounts.service import LoginOutcome
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.http import gate
from cloud_gateway.http.auth import (
    begin_session,
    csrf_token,
    end_session,
    require_identity,
    verify_csrf,
)
from cloud_gateway.http.keys import (
    ACCOUNTS,
    SHOP,
    STORE,
)
from cloud_gateway.http.pages import render
from cloud_gateway.http.redirects import safe_next
from cloud_gateway.i18n import request_language, translate
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.views import shared_plants
from cloud_gateway.shop.formats import Formats

__all__ = ["safe_next", "setup"]


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


_LOGIN_REFUSALS = {
    LoginOutcome.FAILED: ("login.failed", 401),
    LoginOutcome.LOCKED: ("login.locked", 429),
    LoginOutcome.UNVERIFIED: ("login.unverified", 403),
}


async def login_submit(request: web.Request) -> web.Response:
    """Check the credentials (with lockout); on success rotate the session and go on."""
    form = await request.post()
    await verify_csrf(request, form)
    login = str(form.get("login", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    result = await request.app[ACCOUNTS].authenticate(login, password, request.remote or "")
    if result.outcome in _LOGIN_REFUSALS or result.account is None:
        key, status = _LOGIN_REFUSALS.get(result.outcome, ("login.failed", 401))
        lang = request_language(request)
        return render(
            request,
            "login.html",
            {
                "csrf_token": await csrf_token(request),
                "next": target,
                "error": translate(lang, key),
                "login": login,
            },
            status=status,
        )
    if result.outcome is LoginOutcome.PASSWORD_EXPIRED:
        target = "/password/change"
    response = web.HTTPSeeOther(target)
    await begin_session(request, response, result.account)
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
    store = request.app[STORE]
    devices = await store.repo(DeviceRepository).list_for_account(identity.account.id)
    plants = await store.repo(PlantRepository).list_for_account(identity.account.id)
    shop = request.app[SHOP]
    hubs = [
        (d, await shop.hub_status(identity.account.id, d.id))
        for d in devices
        if d.kind is DeviceKind.CCU
    ]
    return render(
        request,
        "portal.html",
        {
            "account": identity.account,
            "devices": devices,
            "plants": plants,
            "shared": await shared_plants(request, identity.account),
            "csrf_token": await csrf_token(request),
            "hubs": hubs,
            "fmt": Formats(request_language(request)),
        },
    )


def setup(app: web.Application) -> None:
    """Register this area's routes (its services come from the composition root)."""
    texts.register()
    flows.setup(app)
    gate.setup(app)
    api.setup(app)
    customer_page.setup(app)
    app.router.add_get("/login", login_form, name="login")
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/portal", portal, name="portal")
