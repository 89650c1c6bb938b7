"""Password change and new terms: the pages, and the gate that sends everyone there first.

While a logged-in account's password has expired (R-MON-2) or current terms are not accepted
(R-MON-19), portal pages redirect to the page that fixes it, and the JSON API answers
``403 password_expired`` or ``412 Precondition Failed`` respectively. Staff (operators,
accountants) pass the console's second factor first (ADR 0021): until then pages redirect to
``/console/2fa`` and the API answers ``403 second_factor_required``.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository_security import AccountSecurityRepository
from cloud_gateway.accounts.texts import policy_messages
from cloud_gateway.errors import PasswordPolicyError
from cloud_gateway.http.auth import (
    SESSION_COOKIE,
    csrf_token,
    current_identity,
    require_identity,
    verify_csrf,
)
from cloud_gateway.http.errors import ErrorCode, error_response
from cloud_gateway.http.keys import ACCOUNTS, CLOCK, STORE
from cloud_gateway.http.pages import Handler, render
from cloud_gateway.http.redirects import safe_next
from cloud_gateway.i18n import request_language, translate
from cloud_gateway.operator.repository import SecondFactorRepository

__all__ = ["account_gate", "setup"]

_STAFF = frozenset({Role.OPERATOR, Role.ACCOUNTANT})
_SECOND_FACTOR = "/console/2fa"
_OPEN_PATHS = ("/terms", "/logout", "/login", "/password/", "/register", "/static/", "/healthz")


@web.middleware
async def account_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Hold logged-in requests until the password is renewed and current terms accepted."""
    path = request.path
    if SESSION_COOKIE not in request.cookies or path == "/" or path.startswith(_OPEN_PATHS):
        return await handler(request)
    if path == "/api/v1/openapi.json":
        return await handler(request)
    identity = await current_identity(request)
    if identity is None:
        return await handler(request)
    api = path.startswith("/api/")
    if identity.account.role in _STAFF and path != _SECOND_FACTOR:
        verified = (
            await request.app[STORE]
            .repo(SecondFactorRepository)
            .session_verified(identity.session.token_hash)
        )
        if not verified:  # staff pass the console's second factor before anything else
            if api:
                return error_response(ErrorCode.SECOND_FACTOR_REQUIRED)
            raise web.HTTPSeeOther(f"{_SECOND_FACTOR}?next={quote(request.rel_url.path_qs)}")
    if await request.app[ACCOUNTS].password_expired(identity.account, state=identity.security):
        if api:
            return error_response(ErrorCode.PASSWORD_EXPIRED)
        raise web.HTTPSeeOther("/password/change")
    missing = (
        await request.app[STORE]
        .repo(AccountSecurityRepository)
        .missing_acceptances(identity.account)
    )
    if missing:
        if api:
            return error_response(ErrorCode.TERMS_NOT_ACCEPTED, accept_at="/terms", missing=missing)
        raise web.HTTPSeeOther(f"/terms?next={request.rel_url.path_qs}")
    return await handler(request)


async def _password_page(
    request: web.Request, *, errors: list[str], done: bool = False, status: int = 200
) -> web.Response:
    identity = await require_identity(request)
    expired = await request.app[ACCOUNTS].password_expired(identity.account)
    context = {
        "csrf_token": await csrf_token(request),
        "errors": errors,
        "expired": expired,
        "done": done,
    }
    return render(request, "account_password.html", context, status=status)


async def password_form(request: web.Request) -> web.Response:
    """Change the password (forced when it has expired)."""
    return await _password_page(request, errors=[])


async def password_submit(request: web.Request) -> web.Response:
    """Apply the policy, store the new password, end the other sessions."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    lang = request_language(request)
    new = str(form.get("password", ""))
    if new != str(form.get("password2", "")):
        return await _password_page(
            request, errors=[translate(lang, "register.mismatch")], status=400
        )
    try:
        await request.app[ACCOUNTS].change_password(
            identity.account,
            str(form.get("current", "")),
            new,
            keep_session=identity.session.token_hash,
        )
    except PasswordPolicyError as exc:
        return await _password_page(request, errors=policy_messages(lang, exc), status=400)
    return await _password_page(request, errors=[], done=True)


async def terms_form(request: web.Request) -> web.Response:
    """Show the documents that need acceptance."""
    identity = await require_identity(request)
    missing = (
        await request.app[STORE]
        .repo(AccountSecurityRepository)
        .missing_acceptances(identity.account)
    )
    context = {
        "csrf_token": await csrf_token(request),
        "missing": missing,
        "next": safe_next(request.query.get("next")),
    }
    return render(request, "account_terms.html", context)


async def terms_submit(request: web.Request) -> web.Response:
    """Record the acceptance of exactly the versions that were shown."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    store = request.app[STORE]
    missing = await store.repo(AccountSecurityRepository).missing_acceptances(identity.account)
    accepted = {k: v for k, v in missing.items() if form.get(f"accept_{k}") == v}
    async with store.database.begin() as conn:
        await store.repo(AccountSecurityRepository).accept(
            conn, identity.account.id, accepted, request.app[CLOCK].now()
        )
    if len(accepted) < len(missing):
        raise web.HTTPSeeOther("/terms")
    raise web.HTTPSeeOther(safe_next(str(form.get("next", ""))))


def setup(app: web.Application) -> None:
    """Register the pages and the gate."""
    app.router.add_get("/password/change", password_form, name="password_change")
    app.router.add_post("/password/change", password_submit)
    app.router.add_get("/terms", terms_form, name="terms")
    app.router.add_post("/terms", terms_submit)
    app.middlewares.append(account_gate)
