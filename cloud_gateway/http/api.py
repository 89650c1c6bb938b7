"""Plumbing of the JSON API: who is asking, CSRF for writes, JSON errors, the access check.

The JSON boundary's types (issue 20 items 5 and 9): a body is an object (:func:`read_json`),
a text field is a string (:func:`json_text`), an id is a JSON integer from 1 to
:data:`~cloud_gateway.http.errors.MAX_ID`, never a boolean, float or string
(:func:`json_id`); anything else is refused with 422 ``invalid`` naming the field, never
stringified. Dates and instants a client sends lie between :data:`EARLIEST_DAY` and
:data:`LATEST_DAY` (:func:`input_day`, :func:`input_instant`): 0001-01-01 or 9999-12-31
would overflow the day arithmetic behind them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.access import Action, Actor, Resource, actor_for, can
from cloud_gateway.http.auth import Identity, current_identity, same_secret
from cloud_gateway.http.errors import MAX_ID, ErrorCode, refuse
from cloud_gateway.http.keys import STORE

__all__ = [
    "actor_for",
    "api_actor",
    "api_identity",
    "check",
    "input_day",
    "input_instant",
    "is_id",
    "json_id",
    "json_text",
    "read_json",
]

CSRF_HEADER = "X-CSRF-Token"
_SAFE = {"GET", "HEAD", "OPTIONS"}


async def api_identity(request: web.Request) -> Identity:
    """The logged-in identity (401 if nobody; 403 on a write without the CSRF token)."""
    identity = await current_identity(request)
    if identity is None:
        raise refuse(ErrorCode.NOT_LOGGED_IN)
    if request.method not in _SAFE:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not same_secret(sent, identity.session.csrf_token):
            raise refuse(ErrorCode.CSRF_TOKEN_INVALID)
    return identity


async def api_actor(request: web.Request) -> tuple[Identity, Actor]:
    """The logged-in account as an :class:`Actor` (401 if nobody; 403 on a write without CSRF)."""
    identity = await api_identity(request)
    return identity, await actor_for(request.app[STORE], identity.account)


def check(actor: Actor, action: Action, resource: Resource) -> None:
    """Refuse with 404 (the object's existence is not revealed) unless ``can`` allows."""
    if not can(actor, action, resource):
        raise refuse(ErrorCode.NOT_FOUND)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body (400 otherwise)."""
    try:
        body = await request.json()
    except ValueError:
        raise refuse(ErrorCode.INVALID_JSON) from None
    if not isinstance(body, dict):
        raise refuse(ErrorCode.INVALID_JSON)
    return body


def is_id(value: object) -> bool:
    """Whether ``value`` (parsed JSON) can be a row's id: an integer 1..MAX_ID, not a bool."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def json_text(body: dict[str, Any], key: str, default: str = "") -> str:
    """The string ``body[key]`` (``default`` when absent); 422 for null, numbers, lists..."""
    value = body.get(key, default)
    if not isinstance(value, str):
        raise refuse(ErrorCode.INVALID, fields={key: "must_be_string"})
    return value


def json_id(body: dict[str, Any], key: str, code: ErrorCode = ErrorCode.INVALID) -> int | None:
    """The id ``body[key]``, ``None`` when absent or null; refused with ``code`` (422) when
    it is no id: negative, zero, beyond :data:`MAX_ID`, a boolean, float or string."""
    value = body.get(key)
    if value is None:
        return None
    if not is_id(value):
        if code is ErrorCode.INVALID:
            raise refuse(code, fields={key: "must_be_id"})
        raise refuse(code)
    return int(value)


EARLIEST_DAY = date(2000, 1, 1)
"""The earliest day a client may name (no reading, window or contract is older)."""
LATEST_DAY = date(2199, 12, 31)
"""The latest day a client may name."""


def input_day(raw: object) -> date:
    """An ISO day from the client; ``ValueError`` unless a string of a day in range."""
    if not isinstance(raw, str):
        raise ValueError("a day is an ISO date string")  # noqa: TRY004 - callers map ValueError
    day = date.fromisoformat(raw)
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"day {raw!r} out of range")
    return day


def input_instant(raw: object) -> datetime:
    """An ISO instant from the client; ``ValueError`` unless a string of an instant in range."""
    if not isinstance(raw, str):
        raise ValueError("an instant is an ISO string")  # noqa: TRY004 - callers map ValueError
    instant = datetime.fromisoformat(raw)
    if not EARLIEST_DAY <= instant.date() <= LATEST_DAY:
        raise ValueError(f"instant {raw!r} out of range")
    return instant
