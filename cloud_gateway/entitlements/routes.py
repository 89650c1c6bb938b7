"""JSON API of entitlements: a device's decision and windows, operator grants and ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.access import Action, ObjectKind, Resource
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.contracts.repository import ServiceContractRepository
from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.repository import EntitlementRepository, StoredWindow
from cloud_gateway.entitlements.windows import Subject
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.api import (
    api_actor,
    check,
    input_instant,
    json_id,
    json_text,
    read_json,
)
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import CLOCK, ENTITLEMENTS, OPENAPI, STORE
from cloud_gateway.http.openapi import json_body, ok, path_param
from cloud_gateway.http.pages import Handler
from cloud_gateway.plants.repository import PlantRepository

__all__ = ["setup"]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _window_json(s: StoredWindow) -> dict[str, Any]:
    w = s.window
    return {
        "id": s.id,
        "kind": w.kind.value,
        "subject": s.subject.value,
        "subject_id": s.subject_id,
        "start": w.start.isoformat(),
        "end": w.end.isoformat(),
        "ended_at": _iso(w.ended_at),
        "source": w.source,
        "booking": w.booking.value if w.booking else None,
        "product": s.product,
        "licensed_power_w": w.licensed_power_w,
    }


async def _device(request: web.Request) -> Device:
    try:
        return (
            await request.app[STORE].repo(DeviceRepository).get_by_slug(request.match_info["slug"])
        )
    except NotFoundError:
        raise refuse(ErrorCode.NOT_FOUND) from None


async def _owner_of(request: web.Request, s: StoredWindow) -> Resource:
    owner = s.account_id
    if s.subject is Subject.ACCOUNT:
        owner = s.subject_id
    elif s.subject is Subject.HUB:
        owner = await request.app[STORE].repo(DeviceRepository).owner(s.subject_id)
    plant = s.subject_id if s.subject is Subject.PLANT else None
    return Resource(kind=ObjectKind.WINDOW, owner_account_id=owner, plant_id=plant)


async def get_device(request: web.Request) -> web.Response:
    """A device and its entitlement now (entitled, until, reason)."""
    _, actor = await api_actor(request)
    device = await _device(request)
    check(actor, Action.READ, Resource(kind=ObjectKind.DEVICE, owner_account_id=device.account_id))
    decision = await request.app[ENTITLEMENTS].decide(device, request.app[CLOCK].now())
    return web.json_response(
        {
            "slug": device.slug,
            "kind": device.kind.value,
            "name": device.name,
            "entitlement": {
                "entitled": decision.entitled,
                "until": _iso(decision.until),
                "reason": decision.reason,
            },
        }
    )


async def device_windows(request: web.Request) -> web.Response:
    """The entitlement windows that apply to a hub (its account's and its own)."""
    _, actor = await api_actor(request)
    device = await _device(request)
    check(actor, Action.READ, Resource(kind=ObjectKind.WINDOW, owner_account_id=device.account_id))
    subjects = [(Subject.HUB, device.id)]
    if device.account_id is not None:
        subjects.append((Subject.ACCOUNT, device.account_id))
    stored = await request.app[STORE].repo(EntitlementRepository).for_subjects(*subjects)
    return web.json_response([_window_json(s) for s in stored])


async def _stored(request: web.Request) -> StoredWindow:
    try:
        return (
            await request.app[STORE]
            .repo(EntitlementRepository)
            .get(int(request.match_info["window_id"]))
        )
    except (NotFoundError, ValueError):
        raise refuse(ErrorCode.NOT_FOUND) from None


async def get_window(request: web.Request) -> web.Response:
    """One entitlement window."""
    _, actor = await api_actor(request)
    stored = await _stored(request)
    check(actor, Action.READ, await _owner_of(request, stored))
    return web.json_response(_window_json(stored))


def _instant(body: dict[str, Any], key: str) -> datetime:
    try:
        value = input_instant(body[key])
    except (KeyError, ValueError):
        raise refuse(ErrorCode(f"invalid_{key}")) from None
    if value.tzinfo is None:
        raise refuse(ErrorCode(f"naive_{key}"))
    return value


async def _subject_exists(request: web.Request, subject: Subject, subject_id: int) -> bool:
    """Whether the account, hub, plant or service contract a grant names exists."""
    store = request.app[STORE]
    if subject is Subject.HUB:
        return await store.repo(DeviceRepository).owner(subject_id) is not None
    try:
        if subject is Subject.ACCOUNT:
            await store.repo(AccountRepository).get(subject_id)
        elif subject is Subject.PLANT:
            await store.repo(PlantRepository).get(subject_id, None)
        else:
            async with store.engine.connect() as conn:
                return (
                    await store.repo(ServiceContractRepository).service(conn, subject_id)
                    is not None
                )
    except NotFoundError:
        return False
    return True


async def grant_window(request: web.Request) -> web.Response:
    """Operators: grant a window by hand (audited); ``idempotency_key`` makes retries safe."""
    identity, actor = await api_actor(request)
    check(actor, Action.MANAGE, Resource(kind=ObjectKind.WINDOW, owner_account_id=None))
    body = await read_json(request)
    try:
        subject = Subject(json_text(body, "subject"))
    except ValueError:
        raise refuse(ErrorCode.INVALID_SUBJECT) from None
    subject_id = json_id(body, "subject_id", ErrorCode.INVALID_SUBJECT)
    if subject_id is None or not await _subject_exists(request, subject, subject_id):
        raise refuse(ErrorCode.INVALID_SUBJECT)
    start, end = _instant(body, "start"), _instant(body, "end")
    if end <= start:
        raise refuse(ErrorCode.END_BEFORE_START)
    key = body.get("idempotency_key")
    stored = await request.app[ENTITLEMENTS].grant(
        actor_account_id=identity.account.id,
        subject=subject,
        subject_id=subject_id,
        start=start,
        end=end,
        note=str(body.get("note", "")),
        idempotency_key=str(key) if key else None,
    )
    return web.json_response(_window_json(stored), status=201)


async def end_window(request: web.Request) -> web.Response:
    """Operators: end a window now (or at ``at``), audited."""
    identity, actor = await api_actor(request)
    stored = await _stored(request)
    check(actor, Action.MANAGE, await _owner_of(request, stored))
    body = await read_json(request)
    at = _instant(body, "at") if "at" in body else request.app[CLOCK].now()
    ended = await request.app[ENTITLEMENTS].end_window(
        actor_account_id=identity.account.id,
        window_id=stored.id,
        at=at,
        note=str(body.get("note", "")),
    )
    return web.json_response(_window_json(ended))


def setup(app: web.Application) -> None:
    """Register and describe the routes."""
    slug = [path_param("slug", "string")]
    window = [path_param("window_id")]
    routes: list[tuple[str, str, Handler, dict[str, Any]]] = [
        ("GET", "/api/v1/devices/{slug}", get_device, {"parameters": slug}),
        ("GET", "/api/v1/devices/{slug}/windows", device_windows, {"parameters": slug}),
        ("GET", "/api/v1/windows/{window_id}", get_window, {"parameters": window}),
        (
            "POST",
            "/api/v1/windows",
            grant_window,
            {
                "requestBody": json_body(
                    {
                        "subject": "string",
                        "subject_id": "integer",
                        "start": "string",
                        "end": "string",
                        "note": "string",
                        "idempotency_key": "string",
                    },
                    ["subject", "subject_id", "start", "end"],
                )
            },
        ),
        (
            "POST",
            "/api/v1/windows/{window_id}/end",
            end_window,
            {"parameters": window, "requestBody": json_body({"at": "string", "note": "string"})},
        ),
    ]
    for method, path, handler, extra in routes:
        app.router.add_route(method, path, handler)
        summary = (handler.__doc__ or path).splitlines()[0]
        operation: dict[str, Any] = {"summary": summary, "responses": ok(summary, 201, 400)}
        app[OPENAPI].add(method, path, operation | extra)
