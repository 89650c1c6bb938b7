"""Plumbing of the JSON API: who is asking, CSRF for writes, JSON errors, the access check."""

from __future__ import annotations

import hmac
import json
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.access import Action, Actor, Resource, actor_for, can
from cloud_gateway.accounts.auth import Identity, current_identity
from cloud_gateway.app_keys import STORE

__all__ = ["actor_for", "api_actor", "check", "error", "read_json"]

CSRF_HEADER = "X-CSRF-Token"
_SAFE = {"GET", "HEAD", "OPTIONS"}


def error(status: int, code: str, **extra: object) -> web.HTTPException:
    """A JSON error response to raise."""
    exc = web.HTTPException(
        text=json.dumps({"error": code, **extra}), content_type="application/json"
    )
    exc.set_status(status)
    return exc


async def api_actor(request: web.Request) -> tuple[Identity, Actor]:
    """The logged-in account as an :class:`Actor` (401 if nobody; 403 on a write without CSRF)."""
    identity = await current_identity(request)
    if identity is None:
        raise error(401, "not_logged_in")
    if request.method not in _SAFE:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, identity.session.csrf_token):
            raise error(403, "csrf_token_invalid")
    return identity, await actor_for(request.app[STORE], identity.account)


def check(actor: Actor, action: Action, resource: Resource) -> None:
    """Refuse with 404 (the object's existence is not revealed) unless ``can`` allows."""
    if not can(actor, action, resource):
        raise error(404, "not_found")


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body (400 otherwise)."""
    try:
        body = await request.json()
    except ValueError:
        raise error(400, "invalid_json") from None
    if not isinstance(body, dict):
        raise error(400, "invalid_json")
    return body
