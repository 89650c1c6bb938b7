"""Who is asking: portal session cookies, the logged-in account, CSRF tokens.

The session cookie is ``__Host-session``: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain,
so it never reaches a device's remote-access host. A new token is issued at every login
(rotation); logout and password changes end sessions server-side.

CSRF: forms carry ``csrf_token``. For a logged-in browser it is the session's own token; for
anonymous forms (login, registration) it is a double-submit value held in ``__Host-csrf``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository_identity import IdentityRepository
from cloud_gateway.accounts.repository_security import SecurityState
from cloud_gateway.accounts.repository_sessions import PortalSession, SessionRepository
from cloud_gateway.http.keys import CLOCK, STORE
from cloud_gateway.http.pages import CSRF_COOKIE, NEW_ANON_CSRF

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "Identity",
    "begin_session",
    "csrf_token",
    "current_identity",
    "end_session",
    "require_identity",
    "same_secret",
    "verify_csrf",
]

SESSION_COOKIE = "__Host-session"
IDLE_TIMEOUT = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Identity:
    """A logged-in browser: its account and session, and the account's security state (as
    read with them, for the gate's password check)."""

    account: Account
    session: PortalSession
    security: SecurityState


_IDENTITY_KEY: web.RequestKey[Identity | None] = web.RequestKey("identity")


async def current_identity(request: web.Request) -> Identity | None:
    """The logged-in account of this request, or ``None`` (cached per request)."""
    if _IDENTITY_KEY in request:
        cached: Identity | None = request[_IDENTITY_KEY]
        return cached
    identity = await _load_identity(request)
    request[_IDENTITY_KEY] = identity
    return identity


async def _load_identity(request: web.Request) -> Identity | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    store = request.app[STORE]
    found = await store.repo(IdentityRepository).signed_in(token)  # one statement, ADR 0034
    if found is None:
        return None
    session = found.session
    now = request.app[CLOCK].now()
    if now - session.last_seen_at > IDLE_TIMEOUT:
        await store.repo(SessionRepository).end(session.token_hash)
        return None
    if now - session.last_seen_at > timedelta(minutes=1):
        await store.repo(SessionRepository).touch(session.token_hash, now)
    return Identity(found.account, session, found.security)


async def require_identity(request: web.Request) -> Identity:
    """The logged-in account, or a redirect to the login page that comes back here."""
    identity = await current_identity(request)
    if identity is None:
        raise web.HTTPSeeOther(f"/login?next={request.rel_url.path_qs}")
    return identity


def _cookie(response: web.StreamResponse, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="Lax"
    )


async def begin_session(
    request: web.Request, response: web.StreamResponse, account: Account
) -> None:
    """Log ``account`` in on ``response`` with a fresh token (the old one, if any, ends)."""
    store = request.app[STORE]
    old = await current_identity(request)
    if old is not None:
        await store.repo(SessionRepository).end(old.session.token_hash)
    token, _session = await store.repo(SessionRepository).create(
        account.id, request.app[CLOCK].now(), request.remote or ""
    )
    _cookie(response, SESSION_COOKIE, token, None)


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    """Log out: end the session server-side and clear the cookie."""
    identity = await current_identity(request)
    if identity is not None:
        await request.app[STORE].repo(SessionRepository).end(identity.session.token_hash)
    response.del_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="Lax")


async def csrf_token(request: web.Request) -> str:
    """The CSRF token to embed in forms rendered for this request.

    For anonymous requests a double-submit token is kept in ``__Host-csrf``;
    :func:`cloud_gateway.http.pages.render` sends the cookie when a new one was made.
    """
    identity = await current_identity(request)
    if identity is not None:
        return identity.session.csrf_token
    token = request.cookies.get(CSRF_COOKIE) or request.get(NEW_ANON_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request[NEW_ANON_CSRF] = token
    return str(token)


def same_secret(sent: str, expected: str) -> bool:
    """Constant-time comparison of a secret the client sent (any characters, also the
    surrogates aiohttp decodes undecodable bytes to) with the expected one."""
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


async def verify_csrf(request: web.Request, form: Mapping[str, object]) -> None:
    """Refuse (403) a form post whose ``csrf_token`` does not match."""
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not sent:
        raise web.HTTPForbidden(text="CSRF token missing")
    identity = await current_identity(request)
    expected = identity.session.csrf_token if identity else request.cookies.get(CSRF_COOKIE, "")
    if not expected or not same_secret(sent, expected):
        raise web.HTTPForbidden(text="CSRF token invalid")
