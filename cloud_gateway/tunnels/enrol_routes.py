"""HTTP face of enrolment: the device API and the owner's pairing page.

Device API (no client certificate yet)::

    POST /api/v1/enrol          {"csr": PEM, "kind": "ccu"|"inverter_agent", "name": str}
      201 {"pairing_code", "poll_token", "poll_url", "expires_at", "poll_interval"}
      400 {"error": "invalid_request"|"invalid_csr", "detail"}   429 {"error": "rate_limited"}
    GET  /api/v1/enrol/{token}
      202 {"status": "pending", "expires_at", "poll_interval"}
      200 {"status": "issued", "certificate", "ca_certificate", "device": {...}, "tunnel_path"}
      410 {"status": "expired"}   404 {"status": "unknown"}

Owner: ``GET/POST /portal/devices/pair`` (logged in, CSRF).
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.errors import StateError
from cloud_gateway.http.auth import csrf_token, require_identity, verify_csrf
from cloud_gateway.http.errors import ErrorCode, error_response
from cloud_gateway.http.keys import CONFIG, DEVICE_CA, ENROLMENT, OPENAPI
from cloud_gateway.http.openapi import OpenApi, json_body, path_param
from cloud_gateway.http.pages import render
from cloud_gateway.tunnels.device_ca import InvalidCsrError
from cloud_gateway.tunnels.enrolment import PollStatus, RateLimitedError

__all__ = ["setup"]


def _error(code: ErrorCode, detail: str = "", **headers: str) -> web.Response:
    return error_response(code, headers, detail=detail)


async def enrol_request(request: web.Request) -> web.Response:
    """A device asks to be enrolled and gets a pairing code."""
    try:
        body: Any = await request.json()
    except ValueError:  # not JSON, not UTF-8, or an integer beyond Python's digit limit
        return _error(ErrorCode.INVALID_REQUEST, "body must be a JSON object")
    if not isinstance(body, dict):
        return _error(ErrorCode.INVALID_REQUEST, "body must be a JSON object")
    csr, kind, name = body.get("csr"), body.get("kind"), body.get("name", "")
    if not (isinstance(csr, str) and isinstance(kind, str) and isinstance(name, str)):
        return _error(ErrorCode.INVALID_REQUEST, "csr, kind and name must be strings")
    try:
        device_kind = DeviceKind(kind)
    except ValueError:
        return _error(ErrorCode.INVALID_REQUEST, f"unknown device kind {kind!r}")
    service = request.app[ENROLMENT]
    try:
        issued = await service.request(
            csr_pem=csr, kind=device_kind, name=name, source_address=request.remote or ""
        )
    except InvalidCsrError as exc:
        return _error(ErrorCode.INVALID_CSR, str(exc))
    except RateLimitedError as exc:
        return _error(
            ErrorCode.RATE_LIMITED, str(exc), **{"Retry-After": _seconds(exc.retry_after)}
        )
    config = request.app[CONFIG].enrolment
    return web.json_response(
        {
            "pairing_code": issued.pairing_code,
            "poll_token": issued.poll_token,
            "poll_url": f"/api/v1/enrol/{issued.poll_token}",
            "expires_at": issued.expires_at.isoformat(),
            "poll_interval": config.poll_interval_s,
        },
        status=201,
    )


async def enrol_poll(request: web.Request) -> web.Response:
    """A device asks whether its certificate is ready."""
    result = await request.app[ENROLMENT].poll(request.match_info["token"])
    config = request.app[CONFIG].enrolment
    if result.status is PollStatus.UNKNOWN:
        return web.json_response({"status": result.status.value}, status=404)
    if result.status is PollStatus.EXPIRED:
        return web.json_response({"status": result.status.value}, status=410)
    if result.enrolment is None:
        raise StateError(f"poll status {result.status} without an enrolment")
    if result.status is PollStatus.PENDING:
        return web.json_response(
            {
                "status": result.status.value,
                "expires_at": result.enrolment.expires_at.isoformat(),
                "poll_interval": config.poll_interval_s,
            },
            status=202,
            headers={"Retry-After": _seconds(config.poll_interval_s)},
        )
    return web.json_response(
        {
            "status": result.status.value,
            "certificate": result.certificate_pem,
            "ca_certificate": request.app[DEVICE_CA].cert_pem,
            "device": {
                "slug": result.enrolment.device_slug,
                "kind": result.enrolment.kind,
                "name": result.enrolment.name,
            },
            "tunnel_path": "/tunnel/v1",
        }
    )


def _seconds(value: float) -> str:
    return str(math.ceil(value))


async def pair_form(request: web.Request) -> web.Response:
    """The owner's page to enter a device's pairing code."""
    identity = await require_identity(request)
    return render(
        request,
        "enrol_pair.html",
        {"account": identity.account, "csrf_token": await csrf_token(request), "error": None},
    )


async def pair_submit(request: web.Request) -> web.Response:
    """Claim the device whose code the owner entered."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    service = request.app[ENROLMENT]
    error, status = None, 200
    try:
        claimed = await service.claim(
            str(form.get("code", "")),
            account_id=identity.account.id,
            source_address=request.remote or "",
        )
    except RateLimitedError:
        error, status = "enrol.too_many", 429
    except LookupError:
        error, status = "enrol.bad_code", 400
    context = {"account": identity.account, "csrf_token": await csrf_token(request)}
    if error is not None:
        return render(request, "enrol_pair.html", {**context, "error": error}, status=status)
    return render(request, "enrol_done.html", {**context, "device": claimed})


def _describe(openapi: OpenApi) -> None:
    """OpenAPI operations of the device API (no session: the device has no account)."""
    anonymous: list[dict[str, list[str]]] = []
    openapi.add(
        "POST",
        "/api/v1/enrol",
        {
            "summary": "A device asks to be enrolled and gets a pairing code to show its owner",
            "security": anonymous,
            "requestBody": json_body(
                {"csr": "string", "kind": "string", "name": "string"}, ["csr", "kind"]
            ),
            "responses": {
                "201": {"description": "pairing code, poll token and URL, expiry"},
                "400": {"description": "invalid_request or invalid_csr"},
                "429": {"description": "rate_limited (Retry-After)"},
            },
        },
    )
    openapi.add(
        "GET",
        "/api/v1/enrol/{token}",
        {
            "summary": "A device asks whether its certificate is ready",
            "security": anonymous,
            "parameters": [path_param("token", "string")],
            "responses": {
                "200": {"description": "issued: certificate, CA certificate, device, tunnel path"},
                "202": {"description": "pending: not claimed yet, poll again"},
                "404": {"description": "unknown token"},
                "410": {"description": "expired"},
            },
        },
    )


def setup(app: web.Application) -> None:
    """Register the enrolment routes (``app[ENROLMENT]`` comes from the composition root)."""
    app.router.add_post("/api/v1/enrol", enrol_request, name="enrol_request")
    app.router.add_get("/api/v1/enrol/{token}", enrol_poll, name="enrol_poll")
    _describe(app[OPENAPI])
    app.router.add_get("/portal/devices/pair", pair_form, name="enrol_pair")
    app.router.add_post("/portal/devices/pair", pair_submit)
