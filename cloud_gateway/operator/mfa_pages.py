"""The console's second-factor step: TOTP enrolment with a QR code, codes, recovery codes.

::

    GET  /console/2fa    enrol (QR code, secret) or ask for the code
    POST /console/2fa    code=… (TOTP, or a recovery code once enrolled); csrf_token

Only logged-in staff (operators, accountants) reach it. A confirmed enrolment shows the
recovery codes once. Wrong codes are rate-limited (:mod:`cloud_gateway.operator.second_factor`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import segno
from aiohttp import web

from cloud_gateway.http.auth import Identity, csrf_token, current_identity, verify_csrf
from cloud_gateway.http.keys import CLOCK, STORE
from cloud_gateway.http.pages import render
from cloud_gateway.http.redirects import safe_next
from cloud_gateway.operator.console import STAFF_ROLES, second_factor_passed
from cloud_gateway.operator.repository import SecondFactorRepository
from cloud_gateway.operator.second_factor import SecondFactor, Verdict

__all__ = ["second_factor_form", "second_factor_submit"]


async def _staff(request: web.Request) -> Identity:
    identity = await current_identity(request)
    if identity is None:
        raise web.HTTPSeeOther(f"/login?next={quote(request.rel_url.path_qs)}")
    if identity.account.role not in STAFF_ROLES:
        page = render(request, "console_forbidden.html", {}, status=403)
        raise web.HTTPForbidden(text=page.text, content_type="text/html")
    return identity


def _service(request: web.Request) -> SecondFactor:
    return SecondFactor(request.app[STORE], request.app[CLOCK])


async def _page(
    request: web.Request, identity: Identity, extra: dict[str, Any], *, status: int = 200
) -> web.Response:
    service = _service(request)
    state = await service.state(identity.account)
    context: dict[str, Any] = {
        "csrf_token": await csrf_token(request),
        "next": safe_next(request.query.get("next"), "/console"),
        "enrolled": state is not None and state.confirmed_at is not None,
        "error": None,
    }
    if not context["enrolled"]:
        enrolment = await service.enrolment(identity.account)
        qr = segno.make(enrolment.uri, error="m")
        context["secret"] = enrolment.secret
        context["qr"] = qr.png_data_uri(scale=4, border=2)
    return render(request, "console_2fa.html", context | extra, status=status)


async def second_factor_form(request: web.Request) -> web.StreamResponse:
    """Enrolment or the code prompt."""
    identity = await _staff(request)
    if await second_factor_passed(request, identity):
        raise web.HTTPSeeOther(safe_next(request.query.get("next"), "/console"))
    return await _page(request, identity, {})


async def second_factor_submit(request: web.Request) -> web.StreamResponse:
    """Check the code; on success the session counts as verified."""
    identity = await _staff(request)
    form = await request.post()
    await verify_csrf(request, form)
    code = str(form.get("code", ""))
    target = safe_next(str(form.get("next", "")) or None, "/console")
    service = _service(request)
    state = await service.state(identity.account)
    codes: list[str] = []
    if state is None or state.confirmed_at is None:
        verdict, codes = await service.confirm(identity.account, code)
    else:
        verdict = await service.verify(identity.account, code)
    if verdict is Verdict.LOCKED:
        return await _page(request, identity, {"error": "console.2fa.locked"}, status=429)
    if verdict is Verdict.WRONG:
        return await _page(request, identity, {"error": "console.2fa.wrong"}, status=422)
    await (
        request.app[STORE]
        .repo(SecondFactorRepository)
        .mark_session(identity.session.token_hash, request.app[CLOCK].now())
    )
    if codes:
        return render(request, "console_recovery.html", {"codes": codes, "next": target})
    raise web.HTTPSeeOther(target)
