"""Publishing a new version of the terms of use or the privacy policy (R-MON-19).

::

    GET  /console/terms     the versions in force
    POST /console/terms     kind=terms|privacy, version, reason

Once published, every account must accept the new version: the API answers 412
``terms_not_accepted`` and the portal asks (``cloud_gateway.http.gate``) until it does.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cloud_gateway.accounts.repository_security import AccountSecurityRepository
from cloud_gateway.errors import ConflictError
from cloud_gateway.http.keys import CLOCK, STORE
from cloud_gateway.operator.console import BODY, audit, reason_of
from cloud_gateway.operator.rendering import render_console

__all__ = ["KINDS", "publish_terms", "terms"]

KINDS = ("terms", "privacy")
_MAX_VERSION = 32


async def _page(request: web.Request, extra: dict[str, Any], *, status: int = 200) -> web.Response:
    current = await request.app[STORE].repo(AccountSecurityRepository).current_documents()
    context = {
        "current": current,
        "kinds": KINDS,
        "error": None,
        "kind": "",
        "version": "",
        "notice": request.query.get("done", ""),
    }
    return await render_console(request, "console_terms.html", context | extra, status=status)


async def terms(request: web.Request) -> web.Response:
    """The versions in force and the publish form."""
    return await _page(request, {})


async def publish_terms(request: web.Request) -> web.StreamResponse:
    """Publish a new version (everyone must accept it again)."""
    body = request[BODY]
    kind = str(body.get("kind", ""))
    version = str(body.get("version", "")).strip()
    reason = reason_of(request)
    kept = {"kind": kind, "version": version}
    if kind not in KINDS or not version or len(version) > _MAX_VERSION:
        return await _page(request, kept | {"error": "console.terms.invalid"}, status=422)
    if not reason:
        return await _page(request, kept | {"error": "console.reason_required"}, status=422)
    try:
        await (
            request.app[STORE]
            .repo(AccountSecurityRepository)
            .publish(kind, version, request.app[CLOCK].now())
        )
    except ConflictError:
        return await _page(request, kept | {"error": "console.terms.exists"}, status=422)
    await audit(request, "terms.publish", f"{kind}:{version}", reason)
    raise web.HTTPSeeOther("/console/terms?done=published")
