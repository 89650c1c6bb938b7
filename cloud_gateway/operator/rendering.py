"""Console pages' rendering: the common context (sections for the role, CSRF token, staff
member, Berlin times and numbers in the user's language through Babel)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from babel.numbers import format_decimal

from cloud_gateway.accounts.model import Role
from cloud_gateway.http.auth import csrf_token
from cloud_gateway.http.formats import format_cents, format_date
from cloud_gateway.http.pages import local_times, render
from cloud_gateway.i18n import request_language
from cloud_gateway.operator.console import ACCOUNTANTS, OPERATORS, STAFF, STAFF_ROLES

__all__ = ["SECTIONS", "failed_form", "path_id", "render_console"]

SECTIONS: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("/console/tunnels", "console.nav.tunnels", OPERATORS),
    ("/console/devices", "console.nav.devices", OPERATORS),
    ("/console/accounts", "console.nav.accounts", OPERATORS),
    ("/console/entitlements", "console.nav.entitlements", OPERATORS),
    ("/console/audit", "console.nav.audit", OPERATORS),
    ("/console/queues", "console.nav.queues", STAFF_ROLES),
    ("/console/terms", "console.nav.terms", OPERATORS),
    ("/console/bank", "console.nav.bank", STAFF_ROLES),
    ("/console/credit", "console.nav.credit", ACCOUNTANTS),
    ("/console/tickets", "console.nav.tickets", OPERATORS),
    ("/console/repairs", "console.nav.repairs", OPERATORS),
)
"""The console's sections: link, text id, roles that see it."""


def path_id(request: web.Request, name: str) -> int:
    """The path's number ``name`` (the route's pattern says ``\\d+``); 404 otherwise."""
    try:
        return int(request.match_info[name])
    except ValueError:
        raise web.HTTPNotFound from None


def failed_form(where: str, error: str, body: dict[str, Any]) -> dict[str, Any]:
    """The page context of a refused form: which form (``where``), the text id of the
    message and the input kept (without the CSRF token)."""
    kept = {k: str(v) for k, v in body.items() if k != "csrf_token"}
    return {"failed": where, "error": error, "kept": kept}


def _number(request: web.Request) -> Callable[[float | int | None], str]:
    locale = request_language(request).value

    def number(value: float | int | None) -> str:
        return "" if value is None else format_decimal(value, locale=locale)

    return number


async def render_console(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    role = request[STAFF].account.role
    common = {
        "csrf_token": await csrf_token(request),
        "sections": [(href, key) for href, key, roles in SECTIONS if role in roles],
        "staff": request[STAFF].account,
        "when": local_times(request),
        "number": _number(request),
        "money": lambda amount: format_cents(amount, request_language(request).value),
        "day": lambda value: format_date(value, request_language(request).value),
    }
    return render(request, template, common | context, status=status)
