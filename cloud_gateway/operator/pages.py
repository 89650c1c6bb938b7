"""The console pages (server-rendered like the portal, German first).

::

    GET  /console                               start: what this role may open
    GET  /console/tunnels                       the fleet's tunnels (node column; details where
                                                this node holds them), refusals by reason
                                                (since the start, per hour of the last 24 h)
    GET  /console/devices?q=…                   device search
    GET  /console/devices/{slug}                one device: tunnel, support grant, actions,
                                                its audit
    POST /console/devices/{slug}/{action}       disconnect | disable | enable | revoke, reason
    GET  /console/accounts?q=…                  account search
    GET  /console/audit                         remote-access audit and console audit
    GET  /console/entitlements?account=…        windows; grant packages and licences, end
    GET  /console/queues                        queues, documents, payments, telemetry
    POST /console/queues/mail/retry             failed mails back in the queue (reason)
    GET  /console/terms, POST /console/terms    publish terms of use / privacy policy

Further queues (payments, reservations, tickets) add their own :class:`ConsoleRoute`
entries and link from the start page's ``sections``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.keys import CLOCK, OUTBOX, STORE, TUNNELS
from cloud_gateway.http.pages import local_times
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.operator.actions import DeviceAction, act_on_device
from cloud_gateway.operator.console import (
    OPERATORS,
    STAFF,
    STAFF_ROLES,
    ConsoleRoute,
    RouteKind,
    audit,
    reason_of,
)
from cloud_gateway.operator.entitlements_page import (
    end_window,
    entitlements,
    grant_licence,
    grant_package,
)
from cloud_gateway.operator.rendering import render_console
from cloud_gateway.operator.repository import ConsoleAuditRepository, SecondFactorRepository
from cloud_gateway.operator.repository_search import ConsoleSearchRepository
from cloud_gateway.operator.terms_page import publish_terms, terms
from cloud_gateway.operator.tunnel_rows import health_figures, holders, live_tunnel_rows
from cloud_gateway.remote.repository import RemoteAccessRepository
from cloud_gateway.remote.repository_support import SupportGrantRepository

__all__ = ["ROUTES"]


async def home(request: web.Request) -> web.Response:
    """What this staff member may open, and their second-factor state."""
    left = await (
        request.app[STORE]
        .repo(SecondFactorRepository)
        .recovery_codes_left(request[STAFF].account.id)
    )
    return await render_console(request, "console_home.html", {"recovery_left": left})


def _refusals(request: web.Request) -> list[dict[str, Any]]:
    """Per reason: refusals since this node started and its last 24 hours as bars."""
    metrics = request.app[TUNNELS].metrics
    since_start = {
        sample.labels.get("reason", ""): sample.value
        for metric in metrics.refusals.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }
    rows = {row.reason: row for row in metrics.refusal_series.rows(request.app[CLOCK].now())}
    return [
        {"reason": reason, "since_start": since_start.get(reason, 0), "day": rows.get(reason)}
        for reason in sorted(since_start.keys() | rows.keys())
    ]


async def tunnels(request: web.Request) -> web.Response:
    """The fleet's tunnels (live details where this node holds them) and this node's
    refusals by reason: since it started and per hour of the last day (inline SVG bars)."""
    rows = await live_tunnel_rows(request)
    when = local_times(request)
    for row in rows:
        row["since_local"] = when(datetime.fromisoformat(row["since"]))
    return await render_console(
        request, "console_tunnels.html", {"tunnels": rows, "refusals": _refusals(request)}
    )


async def devices(request: web.Request) -> web.Response:
    """Device search by slug, name or owner."""
    q = request.query.get("q", "")
    hits = await request.app[STORE].repo(ConsoleSearchRepository).devices(q)
    live = {t.device.id for t in request.app[TUNNELS].live()} | (await holders(request)).keys()
    return await render_console(
        request, "console_devices.html", {"q": q, "hits": hits, "live": live}
    )


async def accounts(request: web.Request) -> web.Response:
    """Account search by user name or e-mail."""
    q = request.query.get("q", "")
    hits = await request.app[STORE].repo(ConsoleSearchRepository).accounts(q)
    return await render_console(request, "console_accounts.html", {"q": q, "hits": hits})


async def _device(request: web.Request) -> Device:
    try:
        return (
            await request.app[STORE].repo(DeviceRepository).get_by_slug(request.match_info["slug"])
        )
    except NotFoundError:
        raise web.HTTPNotFound from None


async def _device_page(
    request: web.Request, device: Device, extra: dict[str, Any], *, status: int = 200
) -> web.Response:
    store, now = request.app[STORE], request.app[CLOCK].now()
    tunnel = request.app[TUNNELS].get(device.id)
    elsewhere = None if tunnel else (await holders(request)).get(device.id)
    owner = ""
    if device.account_id is not None:
        hits = await store.repo(ConsoleSearchRepository).devices(device.slug, limit=1)
        owner = hits[0].owner if hits else ""
    context = {
        "device": device,
        "owner": owner,
        "tunnel": tunnel,
        "elsewhere": elsewhere,
        "grant": await store.repo(SupportGrantRepository).live(device.id, now),
        "sessions": await store.repo(RemoteAccessRepository).list_sessions(
            device_id=device.id, limit=20
        ),
        "entries": await store.repo(ConsoleAuditRepository).recent(target=device.slug, limit=20),
        "actions": [a.value for a in DeviceAction],
        "reason": "",
        "error": None,
        "notice": request.query.get("done", ""),
    }
    return await render_console(request, "console_device.html", context | extra, status=status)


async def device(request: web.Request) -> web.Response:
    """One device: its tunnel, owner, support grant, the actions and its audit."""
    return await _device_page(request, await _device(request), {})


async def device_action(request: web.Request) -> web.StreamResponse:
    """Disconnect, disable, enable or revoke with a reason (kept on error)."""
    device = await _device(request)
    try:
        action = DeviceAction(request.match_info["action"])
    except ValueError:
        raise web.HTTPNotFound from None
    reason = reason_of(request)
    if not reason:
        extra = {"error": "console.reason_required", "failed_action": action.value}
        return await _device_page(request, device, extra, status=422)
    await act_on_device(request, device, action, reason)
    raise web.HTTPSeeOther(f"/console/devices/{device.slug}?done={action.value}")


async def queues(request: web.Request) -> web.Response:
    """Notification outbox, MQTT outbox, billing jobs; documents, payments, telemetry."""
    figures = await health_figures(request)
    return await render_console(request, "console_queues.html", {"figures": figures})


async def retry_mails(request: web.Request) -> web.StreamResponse:
    """Put the mails that failed for good back in the queue (reason required, audited)."""
    reason = reason_of(request)
    if not reason:
        figures = await health_figures(request)
        context = {"figures": figures, "error": "console.reason_required"}
        return await render_console(request, "console_queues.html", context, status=422)
    count = await request.app[STORE].repo(OutboxRepository).retry_failed(request.app[CLOCK].now())
    request.app[OUTBOX].wake()
    await audit(request, "mail.retry", "notification_outbox", reason, f"{count} mails")
    raise web.HTTPSeeOther("/console/queues?done=retry")


async def audit_page(request: web.Request) -> web.Response:
    """The remote-access audit (every session on every device) and the console audit."""
    store = request.app[STORE]
    return await render_console(
        request,
        "console_audit.html",
        {
            "sessions": await store.repo(RemoteAccessRepository).list_sessions(limit=100),
            "entries": await store.repo(ConsoleAuditRepository).recent(limit=100),
        },
    )


ROUTES: tuple[ConsoleRoute, ...] = (
    ConsoleRoute("GET", "/console", home, STAFF_ROLES, RouteKind.PAGE, "console"),
    ConsoleRoute("GET", "/console/tunnels", tunnels, OPERATORS, RouteKind.PAGE),
    ConsoleRoute("GET", "/console/devices", devices, OPERATORS, RouteKind.PAGE),
    ConsoleRoute("GET", "/console/devices/{slug}", device, OPERATORS, RouteKind.PAGE),
    ConsoleRoute(
        "POST",
        "/console/devices/{slug}/{action:disconnect|disable|enable|revoke}",
        device_action,
        OPERATORS,
        RouteKind.PAGE,
    ),
    ConsoleRoute("GET", "/console/accounts", accounts, OPERATORS, RouteKind.PAGE),
    ConsoleRoute("GET", "/console/audit", audit_page, OPERATORS, RouteKind.PAGE),
    ConsoleRoute("GET", "/console/entitlements", entitlements, OPERATORS, RouteKind.PAGE),
    ConsoleRoute("GET", "/console/queues", queues, STAFF_ROLES, RouteKind.PAGE),
    ConsoleRoute("GET", "/console/terms", terms, OPERATORS, RouteKind.PAGE),
    ConsoleRoute("POST", "/console/terms", publish_terms, OPERATORS, RouteKind.PAGE),
    ConsoleRoute("POST", "/console/queues/mail/retry", retry_mails, OPERATORS, RouteKind.PAGE),
    ConsoleRoute("POST", "/console/entitlements/package", grant_package, OPERATORS, RouteKind.PAGE),
    ConsoleRoute("POST", "/console/entitlements/licence", grant_licence, OPERATORS, RouteKind.PAGE),
    ConsoleRoute(
        "POST", "/console/entitlements/{window_id:\\d+}/end", end_window, OPERATORS, RouteKind.PAGE
    ),
)
