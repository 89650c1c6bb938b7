"""Who may use the console and the operator API, and how each route is guarded.

Every console page and operator API route is declared once as a :class:`ConsoleRoute` with
the staff roles it serves; :func:`guard` wraps its handler:

1. nobody logged in: pages redirect to the login, the API answers 401;
2. a role the route does not serve: 403 (customers and installers never see the console);
3. the session has not passed the second factor: pages redirect to ``/console/2fa``, the
   API answers 403 ``second_factor_required``;
4. a POST must carry the session's CSRF token: the ``csrf_token`` form field, or for the
   API the ``X-CSRF-Token`` header; without it 403.

Handlers then find the identity and the parsed body under :data:`STAFF` and :data:`BODY`,
and write the audit with :func:`audit` (operator, action, target, reason, time). A route that
reads its own body (uploads) sets ``own_body``: its POSTs need the ``X-CSRF-Token`` header and
:data:`BODY` stays empty.

Every area registers its console and operator API routes with :func:`add_console_routes`,
which guards them and records the declarations under :data:`CONSOLE_ROUTES` (the role matrix
test walks the application's route table against them: an undeclared route fails it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from aiohttp import web

from cloud_gateway.accounts.model import Role
from cloud_gateway.http.auth import Identity, current_identity, same_secret, verify_csrf
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import CLOCK, STORE
from cloud_gateway.http.pages import render
from cloud_gateway.operator.repository import ConsoleAuditRepository, SecondFactorRepository

__all__ = [
    "ACCOUNTANTS",
    "BODY",
    "CONSOLE_ROUTES",
    "OPERATORS",
    "STAFF",
    "STAFF_ROLES",
    "ConsoleRoute",
    "RouteKind",
    "add_console_routes",
    "audit",
    "guard",
    "reason_of",
    "second_factor_passed",
]

OPERATORS = frozenset({Role.OPERATOR})
ACCOUNTANTS = frozenset({Role.ACCOUNTANT})
STAFF_ROLES = OPERATORS | ACCOUNTANTS

STAFF: web.RequestKey[Identity] = web.RequestKey("console_identity", Identity)
BODY: web.RequestKey[dict[str, Any]] = web.RequestKey("console_body", dict)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_SAFE = {"GET", "HEAD"}
CSRF_HEADER = "X-CSRF-Token"


class RouteKind(StrEnum):
    """Whether a route answers a browser (HTML) or a program (JSON)."""

    PAGE = "page"
    API = "api"


@dataclass(frozen=True, slots=True)
class ConsoleRoute:
    """One console page or operator API route and the roles it serves."""

    method: str
    path: str
    handler: Handler
    roles: frozenset[Role]
    kind: RouteKind
    name: str | None = None
    own_body: bool = False


CONSOLE_ROUTES: web.AppKey[list[ConsoleRoute]] = web.AppKey("console_routes")
"""Every console page and operator API route the application serves, with its roles."""


async def second_factor_passed(request: web.Request, identity: Identity) -> bool:
    """Whether this session passed the staff second factor."""
    return await (
        request.app[STORE]
        .repo(SecondFactorRepository)
        .session_verified(identity.session.token_hash)
    )


def _forbidden_page(request: web.Request) -> web.HTTPException:
    body = render(request, "console_forbidden.html", {}, status=403)
    return web.HTTPForbidden(text=body.text, content_type="text/html")


async def _check(request: web.Request, route: ConsoleRoute) -> Identity:
    api = route.kind is RouteKind.API
    identity = await current_identity(request)
    if identity is None:
        if api:
            raise refuse(ErrorCode.NOT_LOGGED_IN)
        raise web.HTTPSeeOther(f"/login?next={quote(request.rel_url.path_qs)}")
    if identity.account.role not in route.roles:
        raise refuse(ErrorCode.OPERATOR_ROLE_REQUIRED) if api else _forbidden_page(request)
    if not await second_factor_passed(request, identity):
        if api:
            raise refuse(ErrorCode.SECOND_FACTOR_REQUIRED)
        raise web.HTTPSeeOther(f"/console/2fa?next={quote(request.rel_url.path_qs)}")
    return identity


def _csrf_header(request: web.Request, identity: Identity) -> None:
    """Refuse (403) unless the request carries the session's ``X-CSRF-Token`` header."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not same_secret(sent, identity.session.csrf_token):
        raise refuse(ErrorCode.CSRF_TOKEN_INVALID)


async def _body(request: web.Request, identity: Identity, kind: RouteKind) -> dict[str, Any]:
    """A POST's body, its CSRF token checked (form field or, for the API, the header)."""
    if kind is RouteKind.API and request.content_type == "application/json":
        _csrf_header(request, identity)
        try:
            parsed: object = await request.json()
        except ValueError:  # not JSON, not UTF-8, or an integer beyond the digit limit
            raise refuse(ErrorCode.INVALID_JSON) from None
        if not isinstance(parsed, dict):
            raise refuse(ErrorCode.INVALID_JSON)
        return {str(k): v for k, v in parsed.items()}
    form = await request.post()
    header = request.headers.get(CSRF_HEADER)
    fields: Mapping[str, object] = {"csrf_token": header} if header else form
    if kind is RouteKind.API:
        token = fields.get("csrf_token")
        if not isinstance(token, str) or not same_secret(token, identity.session.csrf_token):
            raise refuse(ErrorCode.CSRF_TOKEN_INVALID)
    else:
        await verify_csrf(request, fields)
    return {str(key): value for key, value in form.items() if isinstance(value, str)}


def guard(route: ConsoleRoute) -> Handler:
    """``route.handler`` behind the login, role, second-factor and CSRF checks."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        identity = await _check(request, route)
        request[STAFF] = identity
        if request.method in _SAFE:
            request[BODY] = {}
        elif route.own_body:
            _csrf_header(request, identity)
            request[BODY] = {}
        else:
            request[BODY] = await _body(request, identity, route.kind)
        return await route.handler(request)

    guarded.__doc__ = route.handler.__doc__
    guarded.__name__ = getattr(route.handler, "__name__", "guarded")
    return guarded


def add_console_routes(app: web.Application, routes: Iterable[ConsoleRoute]) -> None:
    """Register ``routes`` behind :func:`guard` and record their declarations."""
    declared = app.setdefault(CONSOLE_ROUTES, [])
    for route in routes:
        app.router.add_route(route.method, route.path, guard(route), name=route.name)
        declared.append(route)


def reason_of(request: web.Request) -> str:
    """The stated reason of a console action (trimmed; may be empty)."""
    reason = request[BODY].get("reason", "")
    return reason.strip()[:500] if isinstance(reason, str) else ""


async def audit(
    request: web.Request, action: str, target: str, reason: str, detail: str = ""
) -> None:
    """Record a state-changing console action of the logged-in staff member."""
    account = request[STAFF].account
    await (
        request.app[STORE]
        .repo(ConsoleAuditRepository)
        .record(
            at=request.app[CLOCK].now(),
            operator_account_id=account.id,
            operator=account.username,
            action=action,
            target=target,
            reason=reason,
            detail=detail,
        )
    )
