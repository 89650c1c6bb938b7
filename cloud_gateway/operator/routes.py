"""Operator API (R-OPS-1) and Prometheus metrics (R-OPS-3).

::

    GET  /api/v1/operator/tunnels                       live tunnels of this node
    POST /api/v1/operator/devices/{slug}/disconnect     close the tunnel (device reconnects)
    POST /api/v1/operator/devices/{slug}/disable        {"disabled": true|false}; refuses at once
    POST /api/v1/operator/devices/{slug}/revoke         revoke every certificate; refuses at once
    GET  /metrics                                       Prometheus text format

All need a session of an account with role ``operator`` (``/metrics`` also takes the
configured bearer token). POSTs are JSON (``Content-Type: application/json``, which a
cross-site form cannot send) or a form with ``csrf_token``.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.auth import Identity, current_identity, verify_csrf
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import CLOCK, CONFIG, OPENAPI, STORE, TUNNELS
from cloud_gateway.http.openapi import OpenApi, json_body, ok, path_param
from cloud_gateway.tunnels.metrics import CONTENT_TYPE
from cloud_gateway.tunnels.registry import LiveTunnel
from cloud_gateway.tunnels.repository_certificates import DeviceCertificateRepository

__all__ = ["setup", "tunnel_summary"]


async def require_operator(request: web.Request) -> Identity:
    """The operator's identity, or 401/403 as JSON."""
    identity = await current_identity(request)
    if identity is None:
        raise refuse(ErrorCode.NOT_LOGGED_IN)
    if identity.account.role is not Role.OPERATOR:
        raise refuse(ErrorCode.OPERATOR_ROLE_REQUIRED)
    return identity


async def _action_body(request: web.Request) -> dict[str, Any]:
    """A POST body: JSON (no CSRF token needed) or a form with a valid CSRF token."""
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise refuse(ErrorCode.INVALID_JSON) from None
        if not isinstance(body, dict):
            raise refuse(ErrorCode.INVALID_JSON)
        return body
    form = await request.post()
    await verify_csrf(request, form)
    return dict(form)


def tunnel_summary(tunnel: LiveTunnel, username: str | None) -> dict[str, Any]:
    """One row of the operator's tunnel list."""
    stats = tunnel.session.stats()
    return {
        "device": tunnel.device.slug,
        "device_id": tunnel.device.id,
        "device_kind": tunnel.hello.device_kind,
        "account_id": tunnel.device.account_id,
        "account": username,
        "since": tunnel.since.isoformat(),
        "session_id": tunnel.session_id,
        "protocol_version": tunnel.protocol_version,
        "software": tunnel.hello.software,
        "peer": tunnel.peer,
        "certificate_serial": tunnel.certificate_serial,
        "bytes_in": stats.bytes_received,
        "bytes_out": stats.bytes_sent,
        "heartbeat_rtt_s": stats.rtt,
        "open_streams": stats.open_streams,
        "streams_total": stats.streams_total,
        "credit_stalls": stats.credit_stalls,
    }


async def list_tunnels(request: web.Request) -> web.Response:
    """Live tunnels of this node."""
    await require_operator(request)
    store = request.app[STORE]
    names: dict[int, str] = {}
    rows = []
    for tunnel in request.app[TUNNELS].live():
        account_id = tunnel.device.account_id
        if account_id is not None and account_id not in names:
            try:
                names[account_id] = (await store.repo(AccountRepository).get(account_id)).username
            except NotFoundError:
                names[account_id] = ""
        rows.append(tunnel_summary(tunnel, names.get(account_id or -1)))
    return web.json_response({"tunnels": rows})


async def _device(request: web.Request) -> Device:
    try:
        return (
            await request.app[STORE].repo(DeviceRepository).get_by_slug(request.match_info["slug"])
        )
    except NotFoundError:
        raise refuse(ErrorCode.NOT_FOUND) from None


async def disconnect(request: web.Request) -> web.Response:
    """Close a device's tunnel; it may reconnect at once."""
    await require_operator(request)
    await _action_body(request)
    device = await _device(request)
    closed = await request.app[TUNNELS].disconnect(device.id)
    return web.json_response({"device": device.slug, "disconnected": closed})


async def disable(request: web.Request) -> web.Response:
    """Set the operator flag; a disabled device's tunnel is refused within seconds."""
    await require_operator(request)
    body = await _action_body(request)
    disabled = body.get("disabled", True)
    if isinstance(disabled, str):
        disabled = disabled.lower() not in {"0", "false", "no"}
    device = await _device(request)
    await (
        request.app[STORE].repo(DeviceRepository).set_disabled(device.slug, disabled=bool(disabled))
    )
    await request.app[TUNNELS].entitlement_changed(device.id)
    return web.json_response({"device": device.slug, "disabled": bool(disabled)})


async def revoke(request: web.Request) -> web.Response:
    """Revoke the device's certificates and refuse its tunnel now."""
    await require_operator(request)
    body = await _action_body(request)
    device = await _device(request)
    count = (
        await request.app[STORE]
        .repo(DeviceCertificateRepository)
        .revoke_device(device.id, now=request.app[CLOCK].now(), reason=str(body.get("reason", "")))
    )
    await request.app[TUNNELS].revoked(device.id)
    return web.json_response({"device": device.slug, "revoked": count})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus scrape: bearer token from ``[operator] metrics_token`` or an operator."""
    token = request.app[CONFIG].operator.metrics_token
    sent = request.headers.get("Authorization", "")
    if not (token and hmac.compare_digest(sent, f"Bearer {token}")):
        await require_operator(request)
    registry = request.app[TUNNELS]
    registry.sample_rtts()
    return web.Response(body=registry.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})


def _describe(openapi: OpenApi) -> None:
    """OpenAPI operations of the operator API (operators only: 403 for anyone else)."""
    slug = [path_param("slug", "string")]
    openapi.add(
        "GET",
        "/api/v1/operator/tunnels",
        {
            "summary": "Live tunnels of this node (device, account, since, versions, peer, "
            "bytes, heartbeat RTT, streams)",
            "responses": ok("the tunnels"),
        },
    )
    actions = {
        "disconnect": ("Close the device's tunnel now (it may reconnect)", {}),
        "disable": (
            "Set or clear the operator flag; a disabled device's tunnel is refused",
            {"disabled": "boolean"},
        ),
        "revoke": (
            "Revoke the device's certificates and refuse its tunnel now",
            {"reason": "string"},
        ),
    }
    for action, (summary, body) in actions.items():
        operation: dict[str, Any] = {
            "summary": summary,
            "parameters": slug,
            "responses": ok(summary, 400),
        }
        if body:
            operation["requestBody"] = json_body(body) | {"required": False}
        openapi.add("POST", f"/api/v1/operator/devices/{{slug}}/{action}", operation)


def setup(app: web.Application) -> None:
    """Register the operator routes."""
    app.router.add_get("/api/v1/operator/tunnels", list_tunnels, name="operator_tunnels")
    app.router.add_post("/api/v1/operator/devices/{slug}/disconnect", disconnect)
    app.router.add_post("/api/v1/operator/devices/{slug}/disable", disable)
    app.router.add_post("/api/v1/operator/devices/{slug}/revoke", revoke)
    _describe(app[OPENAPI])
    app.router.add_get("/metrics", metrics, name="metrics")
