"""The dashboard page server (R-CCU-10): aiohttp on loopback, behind the CCU's lighttpd.

::

    GET  /?sid=@…@[&lang=en]       the page (403 without a live CCU session)
    POST /book?sid=…               (CSRF) a fresh signed shop link, then 303 to the gateway
    POST /reactivate?sid=…         (CSRF) re-enable the tunnel after an expiry stop (R-CCU-9)
    POST /selftest?sid=…           (CSRF) run the self-test and show the page with results
    GET  /update-check             the installed version (the CCU's Zusatzsoftware page)
    GET  /style.css

Every request except the last two needs a ``sid`` the CCU confirms (``Session.renew``);
forms carry a CSRF token bound to that session.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ccu_addon.ccu import SessionChecker, bare_sid
from ccu_addon.deeplink import build_shop_link
from ccu_addon.errors import CcuError
from ccu_addon.identity import HubIdentity, IdentityError, load_signing_key
from ccu_addon.selftest import CheckResult
from ccu_addon.status import AddonState
from ccu_addon.texts import Lang
from ccu_addon.view import DashboardView, render_dashboard, render_message
from tunnel.clock import Clock

__all__ = ["DASHBOARD", "Dashboard", "create_dashboard_app"]

_LOGGER = logging.getLogger(__name__)
_STYLE = Path(__file__).with_name("www") / "style.css"
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; form-action 'self' https:; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Dashboard:
    """What the page server depends on."""

    state: AddonState
    """Packages, tunnel, enrolment."""
    sessions: SessionChecker
    """Confirms CCU WebUI sessions."""
    clock: Clock
    """For days left and link expiry."""
    gateway_url: str
    """Base URL of the gateway (shop link, registration page)."""
    identity: Callable[[], HubIdentity | None]
    """The hub's identity, once enrolled."""
    selftest: Callable[[], Awaitable[list[CheckResult]]]
    """Runs the self-test."""
    version: str
    """Installed add-on version."""
    csrf_secret: bytes = b""
    """Key of the CSRF tokens (random per process when empty)."""


DASHBOARD: web.AppKey[Dashboard] = web.AppKey("dashboard", Dashboard)
_SECRET: web.AppKey[bytes] = web.AppKey("csrf_secret", bytes)


def _lang(request: web.Request) -> Lang:
    return Lang.EN if request.query.get("lang") == "en" else Lang.DE


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, content_type="text/html", status=status, headers=_HEADERS)


def _csrf(request: web.Request, bare: str) -> str:
    return hmac.new(request.app[_SECRET], bare.encode(), hashlib.sha256).hexdigest()


async def _session(request: web.Request) -> str:
    """The bare sid of a logged-in CCU user, or an HTTP error page."""
    sid = request.query.get("sid", "")
    bare = bare_sid(sid)
    try:
        valid = bare is not None and await request.app[DASHBOARD].sessions.session_valid(sid)
    except CcuError:
        raise web.HTTPServiceUnavailable(
            text=render_message(_lang(request), "ccu_down"), content_type="text/html"
        ) from None
    if not valid or bare is None:
        raise web.HTTPForbidden(
            text=render_message(_lang(request), "session_required"), content_type="text/html"
        )
    return bare


async def _post_session(request: web.Request) -> str:
    bare = await _session(request)
    form = await request.post()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, _csrf(request, bare)):
        raise web.HTTPForbidden(text="CSRF token missing or invalid")
    return bare


def _view(
    request: web.Request, bare: str, selftest: list[CheckResult] | None = None
) -> DashboardView:
    deps = request.app[DASHBOARD]
    identity = deps.identity()
    return DashboardView(
        lang=_lang(request),
        sid=f"@{bare}@",
        csrf=_csrf(request, bare),
        now=deps.clock.now(),
        hub=identity.slug if identity else None,
        packages=deps.state.packages,
        tunnel=deps.state.tunnel.status(),
        pairing_code=deps.state.pairing_code,
        register_url=f"{deps.gateway_url.rstrip('/')}/portal/devices/pair",
        selftest=selftest,
    )


def _back(request: web.Request) -> web.HTTPSeeOther:
    return web.HTTPSeeOther("./?" + request.query_string)


async def page(request: web.Request) -> web.Response:
    """The dashboard."""
    bare = await _session(request)
    return _html(render_dashboard(_view(request, bare)))


async def book(request: web.Request) -> web.Response:
    """Make a fresh signed shop link for the hub's account and send the browser there."""
    await _post_session(request)
    deps = request.app[DASHBOARD]
    identity, snapshot = deps.identity(), deps.state.packages
    if identity is None or snapshot is None:
        return _html(render_message(_lang(request), "not_possible"), status=409)
    try:
        # reads the key file and, on the first click, imports cryptography: off the loop
        key = await asyncio.to_thread(load_signing_key, identity.key_path)
    except IdentityError:
        _LOGGER.exception("cannot sign the shop link")
        return _html(render_message(_lang(request), "not_possible"), status=409)
    current = next((p.code for p in snapshot.packages), "")
    link = build_shop_link(
        gateway_url=deps.gateway_url,
        device_slug=identity.slug or snapshot.device,
        account_id=snapshot.account_id,
        package=current,
        key=key,
        certificate_der=identity.certificate_der,
        now=deps.clock.now(),
    )
    raise web.HTTPSeeOther(link)


async def reactivate(request: web.Request) -> web.Response:
    """The local action that lets an expired hub connect again (R-CCU-9)."""
    await _post_session(request)
    request.app[DASHBOARD].state.tunnel.reenable()
    raise _back(request)


async def selftest(request: web.Request) -> web.Response:
    """Run the self-test and show the page with its results."""
    bare = await _post_session(request)
    results = await request.app[DASHBOARD].selftest()
    return _html(render_dashboard(_view(request, bare, results)))


async def update_check(request: web.Request) -> web.Response:
    """The installed version, for the CCU's add-on page (no download, no session)."""
    return web.Response(text=request.app[DASHBOARD].version + "\n")


async def style(_request: web.Request) -> web.FileResponse:
    """The stylesheet."""
    return web.FileResponse(_STYLE, headers={"Cache-Control": "max-age=86400"})


def create_dashboard_app(deps: Dashboard) -> web.Application:
    """The page server's application."""
    app = web.Application(client_max_size=64 * 1024)
    app[DASHBOARD] = deps
    app[_SECRET] = deps.csrf_secret or secrets.token_bytes(32)
    app.router.add_get("/", page)
    app.router.add_post("/book", book)
    app.router.add_post("/reactivate", reactivate)
    app.router.add_post("/selftest", selftest)
    app.router.add_get("/update-check", update_check)
    app.router.add_get("/style.css", style)
    return app
