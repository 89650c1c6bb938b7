"""The common layout's request side: who is logged in, and styled error pages.

:func:`page_chrome` wraps every request outside the JSON API, the tunnel and static files:

- it loads the logged-in account once and puts it under :data:`~cloud_gateway.http.pages.VIEWER`,
  so every page (``/`` included) shows "Angemeldet als …" and the navigation for its role;
- an HTTP error raised by a handler (403, 404, 405, …) or by the router becomes a page in
  the reader's language on the common layout, with the same status; a domain's
  ``NotFoundError`` or ``AccessDeniedError`` becomes the 404 page (as the JSON API's mapping in
  :mod:`cloud_gateway.http.errors` does); an unexpected exception is logged and answered with
  a styled 500 page (no traceback reaches the browser).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from cloud_gateway.errors import AccessDeniedError, NotFoundError
from cloud_gateway.http.auth import current_identity
from cloud_gateway.http.errors import MALFORMED_INPUT, from_input
from cloud_gateway.http.keys import CONFIG
from cloud_gateway.http.pages import VIEWER, Handler, Viewer, render
from cloud_gateway.remote.hosts import slug_from_host

__all__ = ["ERROR_KINDS", "page_chrome"]

_LOGGER = logging.getLogger(__name__)

#: paths that are not pages: JSON, devices, probes, files
_NOT_PAGES = ("/api/", "/tunnel/", "/static/", "/healthz", "/metrics", "/enrol/")

#: status -> the error page's text ids (``error.<kind>.title`` and ``error.<kind>.lead``)
ERROR_KINDS = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    413: "too_large",
    500: "server",
}


def _is_page(request: web.Request) -> bool:
    """A portal page: not JSON, files or devices, and not on a device host (those answer
    with the device's own pages or the remote area's refusal pages)."""
    if request.path.startswith(_NOT_PAGES):
        return False
    config = request.app[CONFIG]
    name = (request.host or "").rsplit(":", 1)[0].lower()
    on_portal = name == config.http.public_host.lower()
    return on_portal or slug_from_host(request.host, config.remote_domain) is None


def error_page(request: web.Request, status: int) -> web.Response:
    """The styled error page for ``status`` in the reader's language."""
    kind = ERROR_KINDS.get(status, "server" if status >= 500 else "bad_request")
    return render(request, "error.html", {"kind": kind, "status": status}, status=status)


@web.middleware
async def page_chrome(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Viewer for the layout; HTTP errors and crashes of pages as styled pages."""
    if not _is_page(request):
        return await handler(request)
    identity = await current_identity(request)
    request[VIEWER] = (
        None
        if identity is None
        else Viewer(
            username=identity.account.username,
            role=identity.account.role.value,
            csrf_token=identity.session.csrf_token,
        )
    )
    try:
        return await handler(request)
    except (NotFoundError, AccessDeniedError):
        return error_page(request, 404)  # another tenant's object is never revealed
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return error_page(request, exc.status)
    except asyncio.CancelledError:
        raise
    except MALFORMED_INPUT as exc:
        if from_input(exc):
            raise  # a 400 from http.errors.malformed_input
        _LOGGER.exception("page %s %s failed", request.method, request.path)
        return error_page(request, 500)
    except Exception:
        _LOGGER.exception("page %s %s failed", request.method, request.path)
        return error_page(request, 500)
