"""The owner's support grant form on the device page (R-OPS-4, ADR 0021).

::

    POST /remote/{slug}/support          hours=1..168 (default 24): allow operators in
    POST /remote/{slug}/support/revoke   end the live grant now

Only the device's owner may grant or revoke (an installer's delegation or an operator's
role does not suffice). A revoke is enforced at the operator's next request: the remote
gate forgets its cached answers for the device.
"""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.accounts.access import Action, ObjectKind, Resource, actor_for, can
from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.auth import require_identity, verify_csrf
from cloud_gateway.http.keys import CLOCK, REMOTE_GATE, STORE
from cloud_gateway.remote.access import device_page
from cloud_gateway.remote.repository_support import SupportGrantRepository
from cloud_gateway.remote.support import grant_duration

__all__ = ["grant_support", "revoke_support"]


async def _owned_device(request: web.Request) -> tuple[Device, dict[str, str]]:
    identity = await require_identity(request)
    try:
        device = (
            await request.app[STORE].repo(DeviceRepository).get_by_slug(request.match_info["slug"])
        )
    except NotFoundError:
        raise web.HTTPNotFound from None
    resource = Resource(
        kind=ObjectKind.DEVICE, owner_account_id=device.account_id, device_id=device.id
    )
    if not can(await actor_for(request.app[STORE], identity.account), Action.SUPPORT, resource):
        raise web.HTTPNotFound  # another tenant's device looks like no device
    form = await request.post()
    await verify_csrf(request, form)
    return device, {k: v for k, v in form.items() if isinstance(v, str)}


async def grant_support(request: web.Request) -> web.StreamResponse:
    """Allow operators to open the device for the chosen number of hours."""
    device, form = await _owned_device(request)
    hours = form.get("hours")
    duration = grant_duration(hours)
    if duration is None:
        extra: dict[str, object] = {"support_error": "support.bad_hours", "hours": hours or ""}
        return await device_page(request, extra, status=422)
    now = request.app[CLOCK].now()
    await (
        request.app[STORE]
        .repo(SupportGrantRepository)
        .grant(
            device_id=device.id,
            owner_account_id=device.account_id or 0,
            now=now,
            until=now + duration,
        )
    )
    request.app[REMOTE_GATE].forget_device(device.id)
    raise web.HTTPSeeOther(f"/remote/{device.slug}/open")


async def revoke_support(request: web.Request) -> web.StreamResponse:
    """End the device's support access now."""
    device, _form = await _owned_device(request)
    await (
        request.app[STORE].repo(SupportGrantRepository).revoke(device.id, request.app[CLOCK].now())
    )
    request.app[REMOTE_GATE].forget_device(device.id)
    raise web.HTTPSeeOther(f"/remote/{device.slug}/open")
