"""Who may use a device host: handover from the portal, remote sessions, the checks.

The portal session cookie (``__Host-session``) is host-only and never reaches a device
host. The portal hands a logged-in owner over with a one-time token: ``POST
/remote/<slug>/open`` (CSRF) stores the token's hash and redirects to
``https://<slug>.<domain>/__remote/handover?token=…``, which uses the token once, starts
a remote session (the audit record) and sets the host-only ``__Host-remote`` cookie.
Every later request on the device host is checked again (:mod:`cloud_gateway.remote.gate`,
which reuses its answers for a few seconds): session alive, account still allowed to open
the device (owner, installer with a delegation of it, or an operator while the owner's
support grant is live), device entitled, tunnel live. Who may open a device is decided in
one place, ``accounts.access.can(…, REMOTE, …)``, with the actor from
:func:`cloud_gateway.remote.support.remote_actor`. The owner's page also holds the support
grant form and the device's remote-access audit (every session, the operators' included).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import quote

from aiohttp import web

from cloud_gateway.accounts.access import Action, ObjectKind, Resource, can
from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.auth import csrf_token, require_identity, verify_csrf
from cloud_gateway.http.keys import CLOCK, CONFIG, REMOTE_GATE, STORE
from cloud_gateway.http.pages import content_security_policy, local_times, render
from cloud_gateway.operator.console import second_factor_passed
from cloud_gateway.operator.repository import ConsoleAuditRepository
from cloud_gateway.remote.gate import DENIAL_STATUS, Access, Denial
from cloud_gateway.remote.hosts import REMOTE_COOKIE, device_origin
from cloud_gateway.remote.lan import lan_label
from cloud_gateway.remote.repository import RemoteAccessRepository
from cloud_gateway.remote.repository_lan import LanTargetRepository
from cloud_gateway.remote.repository_support import SupportGrantRepository
from cloud_gateway.remote.support import remote_actor
from cloud_gateway.tunnels.pairing import hash_secret

__all__ = [
    "Access",
    "Denial",
    "check_access",
    "device_in_path",
    "device_page",
    "handover",
    "open_form",
    "open_submit",
]


async def device_in_path(request: web.Request, action: Action) -> tuple[int, Device]:
    """The logged-in account and the device ``{slug}`` of the path, if the account may do
    ``action`` to it (``can``); else 404: another tenant's device looks like no device."""
    identity = await require_identity(request)
    store = request.app[STORE]
    try:
        device = await store.repo(DeviceRepository).get_by_slug(request.match_info["slug"])
    except NotFoundError:
        raise web.HTTPNotFound from None
    if identity.account.role is Role.OPERATOR and not await second_factor_passed(request, identity):
        raise web.HTTPSeeOther(f"/console/2fa?next={quote(request.rel_url.path)}")
    actor, _until = await remote_actor(store, identity.account, device, request.app[CLOCK].now())
    resource = Resource(
        kind=ObjectKind.DEVICE, owner_account_id=device.account_id, device_id=device.id
    )
    if not can(actor, action, resource):
        raise web.HTTPNotFound
    return identity.account.id, device


async def _openable_device(request: web.Request) -> tuple[int, Device]:
    return await device_in_path(request, Action.REMOTE)


async def open_form(request: web.Request) -> web.Response:
    """Portal page with the "Fernzugriff öffnen" button for one device; for its owner also
    the support grant form and the device's remote-access audit."""
    return await device_page(request)


async def device_page(
    request: web.Request, extra: dict[str, object] | None = None, *, status: int = 200
) -> web.Response:
    """The device page, with ``extra`` context (a form's error and input)."""
    account_id, device = await _openable_device(request)
    context: dict[str, object] = {
        "device": device,
        "csrf_token": await csrf_token(request),
        "owner": account_id == device.account_id,
    }
    if context["owner"]:
        store, now = request.app[STORE], request.app[CLOCK].now()
        context["grant"] = await store.repo(SupportGrantRepository).live(device.id, now)
        context["grants"] = await store.repo(SupportGrantRepository).history(device.id, 10)
        context["sessions"] = await store.repo(RemoteAccessRepository).list_sessions(
            device_id=device.id, limit=50
        )
        context["when"] = local_times(request)
    response = render(request, "remote_open.html", context | (extra or {}), status=status)
    # the form's answer redirects to the device host, and browsers hold redirects of a form
    # submission to form-action as well
    origin = device_origin(device.slug, request.app[CONFIG].remote_domain, request.host)
    response.headers["Content-Security-Policy"] = content_security_policy(
        form_action=f"'self' {origin}"
    )
    return response


async def open_submit(request: web.Request) -> web.Response:
    """Create a one-time handover token and send the browser to the device host."""
    account_id, device = await _openable_device(request)
    form = await request.post()
    await verify_csrf(request, form)
    label = device.slug
    if form.get("lan"):
        # a LAN target of the hub (Netzwerkgeräte): its own device host, the hub's checks
        try:
            lan = await (
                request.app[STORE].repo(LanTargetRepository).get(int(str(form["lan"])), device.id)
            )
        except (ValueError, NotFoundError):
            raise web.HTTPNotFound from None
        label = lan_label(device.slug, lan.id)
    token = secrets.token_urlsafe(32)
    now = request.app[CLOCK].now()
    config = request.app[CONFIG]
    await (
        request.app[STORE]
        .repo(RemoteAccessRepository)
        .create_handover(
            hash_secret(token),
            account_id=account_id,
            device_id=device.id,
            now=now,
            expires_at=now + timedelta(seconds=config.remote.handover_ttl_s),
        )
    )
    identity = await require_identity(request)
    if identity.account.role is Role.OPERATOR:  # support access: in the console audit too
        grant = await request.app[STORE].repo(SupportGrantRepository).live(device.id, now)
        await (
            request.app[STORE]
            .repo(ConsoleAuditRepository)
            .record(
                at=now,
                operator_account_id=account_id,
                operator=identity.account.username,
                action="remote.open",
                target=device.slug,
                reason="support grant of the owner",
                detail=f"grant until {grant.expires_at.isoformat()}" if grant else "",
            )
        )
    origin = device_origin(label, config.remote_domain, request.host)
    raise web.HTTPSeeOther(f"{origin}/__remote/handover?token={token}")


async def handover(request: web.Request, slug: str) -> web.StreamResponse:
    """On the device host: use the token once, start the remote session, set the cookie."""
    store, now = request.app[STORE], request.app[CLOCK].now()
    used = await store.repo(RemoteAccessRepository).consume_handover(
        hash_secret(request.query.get("token", "")), now
    )
    if used is None:
        return denial_page(request, Denial.NOT_LOGGED_IN)
    device = await store.repo(DeviceRepository).get_by_slug(slug)
    if device.id != used.device_id:
        return denial_page(request, Denial.NOT_YOURS)
    account = await store.repo(AccountRepository).get(used.account_id)
    secret = secrets.token_urlsafe(32)
    await store.repo(RemoteAccessRepository).start_session(
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
    secret = request.cookies.get(REMOTE_COOKIE)
    if not secret:
        return Denial.NOT_LOGGED_IN
    return await request.app[REMOTE_GATE].check(hash_secret(secret), slug)


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
