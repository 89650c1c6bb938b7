"""Operator API (R-OPS-1), the console pages and Prometheus metrics (R-OPS-3).

::

    GET  /api/v1/operator/tunnels                       the fleet's tunnels (node; live details
                                                        where this node holds them)
    POST /api/v1/operator/devices/{slug}/disconnect     {"reason"}: close the tunnel
    POST /api/v1/operator/devices/{slug}/disable        {"disabled": true|false, "reason"}
    POST /api/v1/operator/devices/{slug}/revoke         {"reason"}: revoke its certificates
    GET  /metrics                                       Prometheus text format

Every route (API and pages, :data:`ROUTES`) is declared with the staff roles it serves and
guarded by :func:`cloud_gateway.operator.console.guard`: logged in, the right role, the
second factor passed, and for POSTs the CSRF token (``X-CSRF-Token`` header or the form's
``csrf_token``). Every action is audited with the operator's reason (required).
``/metrics`` also takes the configured bearer token.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.auth import same_secret
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import CONFIG, OPENAPI, STORE, TUNNELS
from cloud_gateway.http.openapi import OpenApi, json_body, ok, path_param
from cloud_gateway.operator import pages
from cloud_gateway.operator.actions import DeviceAction, act_on_device
from cloud_gateway.operator.console import (
    BODY,
    OPERATORS,
    STAFF_ROLES,
    ConsoleRoute,
    RouteKind,
    add_console_routes,
    guard,
    reason_of,
)
from cloud_gateway.operator.health import exposition
from cloud_gateway.operator.mfa_pages import second_factor_form, second_factor_submit
from cloud_gateway.operator.texts import register as register_texts
from cloud_gateway.operator.tunnel_rows import health_figures, live_tunnel_rows, tunnel_summary
from cloud_gateway.tunnels.metrics import CONTENT_TYPE

__all__ = ["ROUTES", "setup", "tunnel_summary"]


async def _noop(request: web.Request) -> web.StreamResponse:
    del request
    return web.Response()


async def list_tunnels(request: web.Request) -> web.Response:
    """The fleet's tunnels: the directory with this node's live details."""
    return web.json_response({"tunnels": await live_tunnel_rows(request)})


async def _device(request: web.Request) -> Device:
    try:
        return (
            await request.app[STORE].repo(DeviceRepository).get_by_slug(request.match_info["slug"])
        )
    except NotFoundError:
        raise refuse(ErrorCode.NOT_FOUND) from None


def _required_reason(request: web.Request) -> str:
    reason = reason_of(request)
    if not reason:
        raise refuse(ErrorCode.MISSING_FIELDS, fields=["reason"])
    return reason


async def disconnect(request: web.Request) -> web.Response:
    """Close a device's tunnel; it may reconnect at once."""
    device = await _device(request)
    reason = _required_reason(request)
    return web.json_response(await act_on_device(request, device, DeviceAction.DISCONNECT, reason))


async def disable(request: web.Request) -> web.Response:
    """Set or clear the operator flag; a disabled device's tunnel is refused at once."""
    device = await _device(request)
    reason = _required_reason(request)
    disabled = request[BODY].get("disabled", True)
    if isinstance(disabled, str):
        disabled = disabled.lower() not in {"0", "false", "no"}
    action = DeviceAction.DISABLE if disabled else DeviceAction.ENABLE
    return web.json_response(await act_on_device(request, device, action, reason))


async def revoke(request: web.Request) -> web.Response:
    """Revoke the device's certificates and refuse its tunnel now."""
    device = await _device(request)
    reason = _required_reason(request)
    return web.json_response(await act_on_device(request, device, DeviceAction.REVOKE, reason))


async def metrics(request: web.Request) -> web.Response:
    """Prometheus scrape: bearer token from ``[operator] metrics_token`` or staff."""
    token = request.app[CONFIG].operator.metrics_token
    sent = request.headers.get("Authorization", "")
    if not (token and same_secret(sent, f"Bearer {token}")):
        route = ConsoleRoute("GET", "/metrics", _noop, STAFF_ROLES, RouteKind.API)
        await guard(route)(request)
    registry = request.app[TUNNELS]
    registry.sample_rtts()
    body = registry.metrics.exposition() + exposition(await health_figures(request))
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


ROUTES: tuple[ConsoleRoute, ...] = (
    ConsoleRoute(
        "GET",
        "/api/v1/operator/tunnels",
        list_tunnels,
        OPERATORS,
        RouteKind.API,
        "operator_tunnels",
    ),
    ConsoleRoute(
        "POST", "/api/v1/operator/devices/{slug}/disconnect", disconnect, OPERATORS, RouteKind.API
    ),
    ConsoleRoute(
        "POST", "/api/v1/operator/devices/{slug}/disable", disable, OPERATORS, RouteKind.API
    ),
    ConsoleRoute(
        "POST", "/api/v1/operator/devices/{slug}/revoke", revoke, OPERATORS, RouteKind.API
    ),
    *pages.ROUTES,
)
"""This area's console pages and operator API routes with the roles they serve (the other
areas declare theirs with :func:`add_console_routes` too; the role matrix test walks the
application's route table against all of them)."""


def _describe(openapi: OpenApi) -> None:
    """OpenAPI operations of the operator API (operators only: 403 for anyone else)."""
    slug = [path_param("slug", "string")]
    openapi.add(
        "GET",
        "/api/v1/operator/tunnels",
        {
            "summary": "The fleet's tunnels (device, account, node_id, since; where this node "
            "holds the tunnel (here) also versions, peer, bytes, heartbeat RTT, streams)",
            "responses": ok("the tunnels"),
        },
    )
    actions = {
        "disconnect": ("Close the device's tunnel now (it may reconnect)", {"reason": "string"}),
        "disable": (
            "Set or clear the operator flag; a disabled device's tunnel is refused",
            {"disabled": "boolean", "reason": "string"},
        ),
        "revoke": (
            "Revoke the device's certificates and refuse its tunnel now",
            {"reason": "string"},
        ),
    }
    for action, (summary, body) in actions.items():
        operation: dict[str, Any] = {
            "summary": summary + " (X-CSRF-Token header; the reason is required and audited)",
            "parameters": slug,
            "responses": ok(summary, 400),
            "requestBody": json_body(body) | {"required": True},
        }
        openapi.add("POST", f"/api/v1/operator/devices/{{slug}}/{action}", operation)


def setup(app: web.Application) -> None:
    """Register the operator API, the console pages and the metrics endpoint."""
    register_texts()
    add_console_routes(app, ROUTES)
    app.router.add_get("/console/2fa", second_factor_form, name="console_2fa")
    app.router.add_post("/console/2fa", second_factor_submit)
    _describe(app[OPENAPI])
    app.router.add_get("/metrics", metrics, name="metrics")
