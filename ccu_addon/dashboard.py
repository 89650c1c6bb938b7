"""The dashboard page server (R-CCU-10): on loopback, behind the CCU's lighttpd.

::

    GET  /?sid=@…@[&lang=en]       the page (403 without a live CCU session)
    POST /book?sid=…               (CSRF) a fresh signed shop link, then 303 to the gateway
    POST /reactivate?sid=…         (CSRF) re-enable the tunnel after an expiry stop (R-CCU-9)
    POST /selftest?sid=…           (CSRF) run the self-test and show the page with results
    GET  /update-check             the installed version (the CCU's Zusatzsoftware page)
    GET  /style.css

Every request except the last two needs a ``sid`` the CCU confirms (``Session.renew``);
forms carry a CSRF token bound to that session. :func:`dashboard_routes` gives the routes for
:class:`~ccu_addon.httpserver.HttpServer` (with a body limit of :data:`MAX_FORM_BODY`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Final

from ccu_addon.ccu import SessionChecker, bare_sid
from ccu_addon.deeplink import build_shop_link
from ccu_addon.errors import CcuError
from ccu_addon.httpserver import HttpAbortError, Request, Response, Router
from ccu_addon.identity import HubIdentity, IdentityError, load_signing_key
from ccu_addon.selftest import CheckResult
from ccu_addon.status import AddonState
from ccu_addon.texts import Lang
from ccu_addon.view import DashboardView, render_dashboard, render_message
from tunnel.clock import Clock

__all__ = ["MAX_FORM_BODY", "Dashboard", "dashboard_routes"]

_LOGGER = logging.getLogger(__name__)
_STYLE = Path(__file__).with_name("www") / "style.css"
MAX_FORM_BODY: Final = 64 * 1024
"""Largest request body the page server takes (the forms carry a token only), bytes."""
_HEADERS: Final = {
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
    zone: tzinfo | None = None
    """Time zone of the page's times; None: the system's (the CCU's own setting)."""


def _lang(request: Request) -> Lang:
    return Lang.EN if request.query.get("lang") == "en" else Lang.DE


def _html(body: str, status: int = 200) -> Response:
    return Response.text(body, status=status, content_type="text/html", headers=_HEADERS)


class _Pages:
    """The handlers, bound to their dependencies and the CSRF key."""

    def __init__(self, deps: Dashboard) -> None:
        self.deps = deps
        self.secret = deps.csrf_secret or secrets.token_bytes(32)
        self.style: bytes | None = None

    def _csrf(self, bare: str) -> str:
        return hmac.new(self.secret, bare.encode(), hashlib.sha256).hexdigest()

    async def _session(self, request: Request) -> str:
        """The bare sid of a logged-in CCU user, or an HTTP error page."""
        sid = request.query.get("sid", "")
        bare = bare_sid(sid)
        try:
            valid = bare is not None and await self.deps.sessions.session_valid(sid)
        except CcuError:
            raise HttpAbortError(
                _html(render_message(_lang(request), "ccu_down"), status=503)
            ) from None
        if not valid or bare is None:
            raise HttpAbortError(_html(render_message(_lang(request), "session_required"), 403))
        return bare

    async def _post_session(self, request: Request) -> str:
        bare = await self._session(request)
        sent = request.form().get("csrf_token")
        if sent is None or not hmac.compare_digest(sent.encode(), self._csrf(bare).encode()):
            raise HttpAbortError(Response.text("CSRF token missing or invalid", status=403))
        return bare

    def _view(
        self, request: Request, bare: str, selftest: list[CheckResult] | None = None
    ) -> DashboardView:
        deps = self.deps
        identity = deps.identity()
        return DashboardView(
            lang=_lang(request),
            sid=f"@{bare}@",
            csrf=self._csrf(bare),
            now=deps.clock.now(),
            hub=identity.slug if identity else None,
            packages=deps.state.packages,
            tunnel=deps.state.tunnel.status(),
            pairing_code=deps.state.pairing_code,
            register_url=f"{deps.gateway_url.rstrip('/')}/portal/devices/pair",
            selftest=selftest,
            zone=deps.zone,
        )

    async def page(self, request: Request) -> Response:
        """The dashboard."""
        bare = await self._session(request)
        return _html(render_dashboard(self._view(request, bare)))

    async def book(self, request: Request) -> Response:
        """Make a fresh signed shop link for the hub's account and send the browser there."""
        await self._post_session(request)
        deps = self.deps
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
        return Response.redirect(link)

    async def reactivate(self, request: Request) -> Response:
        """The local action that lets an expired hub connect again (R-CCU-9)."""
        await self._post_session(request)
        self.deps.state.tunnel.reenable()
        return Response.redirect("./?" + request.query_string)

    async def selftest(self, request: Request) -> Response:
        """Run the self-test and show the page with its results."""
        bare = await self._post_session(request)
        results = await self.deps.selftest()
        return _html(render_dashboard(self._view(request, bare, results)))

    async def update_check(self, _request: Request) -> Response:
        """The installed version, for the CCU's add-on page (no download, no session)."""
        return Response.text(self.deps.version + "\n")

    async def stylesheet(self, _request: Request) -> Response:
        """The stylesheet (read once, off the loop)."""
        if self.style is None:
            self.style = await asyncio.to_thread(_STYLE.read_bytes)
        return Response(
            body=self.style,
            content_type="text/css",
            headers={"Cache-Control": "max-age=86400"},
        )


def dashboard_routes(deps: Dashboard) -> Router:
    """The page server's routes."""
    pages = _Pages(deps)
    router = Router()
    router.add("GET", "/", pages.page)
    router.add("POST", "/book", pages.book)
    router.add("POST", "/reactivate", pages.reactivate)
    router.add("POST", "/selftest", pages.selftest)
    router.add("GET", "/update-check", pages.update_check)
    router.add("GET", "/style.css", pages.stylesheet)
    return router
