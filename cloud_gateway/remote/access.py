"""Who may use a device host: handover from the portal, remote sessions, the checks.

The portal session cookie (``__Host-session``) is host-only and never reaches a device
host. The portal hands a logged-in owner over with a one-time token: ``POST
/remote/<slug>/open`` (CSRF) stores the token's hash and redirects to
``https://<slug>.<domain>/__remote/handover?token=…``, which uses the token once, starts
a remote session (the audit record) and sets the host-only ``__Host-remote`` cookie.
Every later request on the device host is checked again: session alive, account still
owner, device entitled, tunnel live.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from aiohttp import web

from cloud_gateway.accounts.auth import csrf_token, require_identity, verify_csrf
from cloud_gateway.app_keys import CONFIG, STORE
from cloud_gateway.errors import NotFoundError
from cloud_gateway.remote.hosts import REMOTE_COOKIE, device_origin
from cloud_gateway.store.devices import Device
from cloud_gateway.store.remote_access import RemoteSession
from cloud_gateway.tunnels.keys import ENTITLEMENT_POLICY, TUNNELS
from cloud_gateway.tunnels.pairing import hash_secret
from cloud_gateway.tunnels.registry import LiveTunnel
from cloud_gateway.web import CLOCK, render

__all__ = ["Access", "Denial", "check_access", "handover", "open_form", "open_submit"]


class Denial(StrEnum):
    """Why a browser may not use a device host; each has its own clear page."""

    NOT_LOGGED_IN = "not_logged_in"
    NOT_YOURS = "not_yours"
    NOT_ENTITLED = "not_entitled"
    OFFLINE = "offline"
    UNREACHABLE = "unreachable"


DENIAL_STATUS = {
    Denial.NOT_LOGGED_IN: 401,
    Denial.NOT_YOURS: 403,
    Denial.NOT_ENTITLED: 403,
    Denial.OFFLINE: 503,
    Denial.UNREACHABLE: 502,
}


@dataclass(frozen=True, slots=True)
class Access:
    """A request that may be proxied: its session, device and tunnel."""

    session: RemoteSession
    device: Device
    tunnel: LiveTunnel


def may_use(device: Device, account_id: int) -> bool:
    """Whether the account owns the device (delegation hooks in here later)."""
    return device.account_id == account_id


async def _owned_device(request: web.Request) -> tuple[int, Device]:
    identity = await require_identity(request)
    try:
        device = await request.app[STORE].devices.get_by_slug(request.match_info["slug"])
    except NotFoundError:
        raise web.HTTPNotFound from None
    if not may_use(device, identity.account.id):
        raise web.HTTPNotFound  # another tenant's device looks like no device
    return identity.account.id, device


async def open_form(request: web.Request) -> web.Response:
    """Portal page with the "Fernzugriff öffnen" button for one device."""
    _account_id, device = await _owned_device(request)
    return render(
        request, "remote_open.html", {"device": device, "csrf_token": await csrf_token(request)}
    )


async def open_submit(request: web.Request) -> web.Response:
    """Create a one-time handover token and send the browser to the device host."""
    account_id, device = await _owned_device(request)
    await verify_csrf(request, await request.post())
    token = secrets.token_urlsafe(32)
    now = request.app[CLOCK].now()
    config = request.app[CONFIG]
    await request.app[STORE].remote.create_handover(
        hash_secret(token),
        account_id=account_id,
        device_id=device.id,
        now=now,
        expires_at=now + timedelta(seconds=config.remote.handover_ttl_s),
    )
    origin = device_origin(device.slug, config.remote_domain, request.host)
    raise web.HTTPSeeOther(f"{origin}/__remote/handover?token={token}")


async def handover(request: web.Request, slug: str) -> web.StreamResponse:
    """On the device host: use the token once, start the remote session, set the cookie."""
    store, now = request.app[STORE], request.app[CLOCK].now()
    used = await store.remote.consume_handover(hash_secret(request.query.get("token", "")), now)
    if used is None:
        return denial_page(request, Denial.NOT_LOGGED_IN)
    device = await store.devices.get_by_slug(slug)
    if device.id != used.device_id:
        return denial_page(request, Denial.NOT_YOURS)
    account = await store.accounts.get(used.account_id)
    secret = secrets.token_urlsafe(32)
    await store.remote.start_session(
        hash_secret(secret),
        account_id=account.id,
        device_id=device.id,
        username=account.username,
        device_slug=device.slug,
        source_address=request.remote or "",
        now=now,
    )
    response = web.HTTPSeeOther("/")
    response.set_cookie(REMOTE_COOKIE, secret, path="/", secure=True, httponly=True, samesite="Lax")
    raise response


async def check_access(request: web.Request, slug: str) -> Access | Denial:
    """May this browser reach device ``slug`` now?"""
    store, now = request.app[STORE], request.app[CLOCK].now()
    secret = request.cookies.get(REMOTE_COOKIE)
    session = None if not secret else await store.remote.find_session(hash_secret(secret))
    idle = timedelta(seconds=request.app[CONFIG].remote.session_idle_s)
    if session is None or session.ended_at is not None or session.device_slug != slug:
        return Denial.NOT_LOGGED_IN
    if now - session.last_seen_at > idle:
        await store.remote.end_session(session.id, now)
        return Denial.NOT_LOGGED_IN
    try:
        device = await store.devices.get_by_slug(slug)
    except NotFoundError:
        return Denial.NOT_YOURS
    if session.account_id is None or not may_use(device, session.account_id):
        await store.remote.end_session(session.id, now)
        return Denial.NOT_YOURS
    decision = await request.app[ENTITLEMENT_POLICY].decide(device, now)
    if not decision.entitled:
        return Denial.NOT_ENTITLED
    tunnel = request.app[TUNNELS].get(device.id)
    if tunnel is None or not tunnel.session.running:
        return Denial.OFFLINE
    return Access(session, device, tunnel)


def denial_page(request: web.Request, denial: Denial) -> web.Response:
    """The clear page for a refused remote-access request (German first)."""
    portal = f"https://{request.app[CONFIG].http.public_host}"
    _name, _sep, port = request.host.rpartition(":")
    if port.isdigit() and port != "443":
        portal += f":{port}"
    return render(
        request,
        "remote_refused.html",
        {"denial": denial.value, "portal": portal + "/portal"},
        status=DENIAL_STATUS[denial],
    )
