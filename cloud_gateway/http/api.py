"""Plumbing of the JSON API: who is asking, CSRF for writes, JSON errors, the access check."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cloud_gateway.accounts.access import Action, Actor, Resource, actor_for, can
from cloud_gateway.http.auth import Identity, current_identity, same_secret
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import STORE

__all__ = ["actor_for", "api_actor", "api_identity", "check", "read_json"]

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
