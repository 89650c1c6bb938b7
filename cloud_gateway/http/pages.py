"""Shared web plumbing: templates and security headers (the app keys are in ``http.keys``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
from aiohttp import web
from babel.dates import format_datetime

from cloud_gateway.http import formats
from cloud_gateway.http.keys import CONFIG, TEMPLATES
from cloud_gateway.i18n import Language, request_language, translate
from cloud_gateway.localdays import BERLIN

__all__ = [
    "CSRF_COOKIE",
    "NEW_ANON_CSRF",
    "VIEWER",
    "Viewer",
    "add_security_headers",
    "content_security_policy",
    "install_formats",
    "local_times",
    "page_context",
    "page_response",
    "render",
    "security_headers",
]

#: double-submit CSRF cookie for anonymous forms (see ``accounts.auth``)
CSRF_COOKIE = "__Host-csrf"
#: request key under which a freshly made anonymous CSRF token waits to be sent
NEW_ANON_CSRF: web.RequestKey[str] = web.RequestKey("new_anon_csrf", str)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who the common layout shows as logged in (set by ``http.chrome`` for every page)."""

    username: str
    role: str
    """``customer``, ``installer`` or ``operator``: which navigation entries appear."""
    csrf_token: str
    """The session's CSRF token, for the layout's logout form."""


#: the logged-in viewer of a page request (absent or ``None``: nobody is logged in)
VIEWER: web.RequestKey[Viewer | None] = web.RequestKey("viewer")


def content_security_policy(*, form_action: str = "'self'") -> str:
    """The pages' CSP; ``form_action`` widens where forms may go (redirects count too)."""
    return (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"frame-ancestors 'self'; base-uri 'self'; form-action {form_action}"
    )


_CSP = content_security_policy()


def install_formats(env: jinja2.Environment) -> jinja2.Environment:
    """Give ``env`` the locale-aware filters every page formats with (``http.formats``)."""
    env.filters.update(formats.FILTERS)
    return env


def make_templates() -> jinja2.Environment:
    """The Jinja2 environment for the gateway's templates (autoescaped)."""
    return install_formats(
        jinja2.Environment(
            loader=jinja2.PackageLoader("cloud_gateway", "templates"),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
        )
    )


def page_context(request: web.Request) -> dict[str, Any]:
    """What the common layout (``base.html``) needs besides ``lang`` and ``t``."""
    portal = request.app[CONFIG].portal
    return {
        "viewer": request.get(VIEWER),
        "page_path": request.path,
        "demo_mailbox": portal.demo_mailbox_dir is not None,
    }


def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    """Render ``template`` in the request's language."""
    lang = request_language(request)

    def t(key: str) -> str:
        return translate(lang, key)

    env = request.app[TEMPLATES]
    values = {**page_context(request), **(context or {})}
    body = env.get_template(template).render(lang=lang.value, t=t, **values)
    return page_response(request, body, status=status)


def page_response(request: web.Request, body: str, *, status: int = 200) -> web.Response:
    """An HTML page with the cookies rendering decided (anonymous CSRF, chosen language)."""
    response = web.Response(text=body, content_type="text/html", status=status)
    new_csrf = request.get(NEW_ANON_CSRF)
    if new_csrf:
        response.set_cookie(
            CSRF_COOKIE, new_csrf, path="/", secure=True, httponly=True, samesite="Lax"
        )
    if request.query.get("lang") in {x.value for x in Language}:
        response.set_cookie(
            "lang", request.query["lang"], max_age=365 * 86400, secure=True, samesite="Lax"
        )
    return response


#: headers every response of the gateway carries (set if the handler did not set them)
_BASE_HEADERS = (
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "SAMEORIGIN"),
)


def add_security_headers(headers: MutableMapping[str, str], *, csp: str = _CSP) -> None:
    """HSTS, CSP, nosniff, Referrer-Policy and X-Frame-Options where ``headers`` lack them."""
    for name, value in _BASE_HEADERS:
        headers.setdefault(name, value)
    headers.setdefault("Content-Security-Policy", csp)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` signal: the security headers on every gateway response,
    raised ``HTTPException``s and streamed (proxied) responses included; a CSP or header a
    handler set is kept. The ``Server`` header names no version."""
    add_security_headers(response.headers)
    # aiohttp's default names Python's and its own version
    response.headers["Server"] = "cloudconnector"


def local_times(request: web.Request) -> Callable[[datetime | None], str]:
    """Instants as Europe/Berlin local time in the request's language, through Babel
    (``""`` for None), for tables in pages."""
    locale = request_language(request).value

    def when(at: datetime | None) -> str:
        if at is None:
            return ""
        return format_datetime(at, format="short", tzinfo=BERLIN, locale=locale)

    return when
