"""Netzwerkgeräte (R-DEV-10): the owner manages a hub's LAN targets and opens each remotely.

Changes are sent to the hub at once when it is connected (``remote.lan_sync``); opening a
target posts to the hub's remote-access handover with the target's id, which sends the
browser to the target's own device host.
"""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.accounts.access import Action
from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.errors import ConflictError, NotFoundError
from cloud_gateway.http.auth import csrf_token, verify_csrf
from cloud_gateway.http.keys import CLOCK, CONFIG, STORE, TUNNELS
from cloud_gateway.http.pages import content_security_policy, render
from cloud_gateway.i18n import request_language, translate
from cloud_gateway.remote.access import device_in_path
from cloud_gateway.remote.hosts import device_origin
from cloud_gateway.remote.lan import InvalidLanTargetError, check_lan_target, lan_label
from cloud_gateway.remote.lan_sync import push_lan_targets
from cloud_gateway.remote.repository_lan import LanTargetRepository

__all__ = ["setup"]


async def _owned_hub(request: web.Request) -> Device:
    """The hub in the path, if the caller may change it (owner, operator); else 404."""
    _account_id, device = await device_in_path(request, Action.UPDATE)
    if device.kind is not DeviceKind.CCU:
        raise web.HTTPNotFound
    return device


async def _page(
    request: web.Request,
    device: Device,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    targets = await request.app[STORE].repo(LanTargetRepository).list_for_device(device.id)
    context = {
        "csrf_token": await csrf_token(request),
        "device": device,
        "targets": targets,
        "error": error,
        "notice": notice,
        "values": values or {"name": "", "host": "", "port": "80"},
    }
    response = render(request, "portal_lan.html", context, status=status)
    # each "open" form is answered with a redirect to the target's device host
    domain, host = request.app[CONFIG].remote_domain, request.host
    origins = " ".join(device_origin(lan_label(device.slug, t.id), domain, host) for t in targets)
    response.headers["Content-Security-Policy"] = content_security_policy(
        form_action=f"'self' {origins}".strip()
    )
    return response


_NOTICES = {"added": "lan.added", "removed": "lan.removed"}


async def lan_page(request: web.Request) -> web.Response:
    """The hub's LAN targets: open, add, remove."""
    device = await _owned_hub(request)
    return await _page(request, device, notice=_NOTICES.get(request.query.get("done", "")))


async def lan_add(request: web.Request) -> web.Response:
    """Add a target; the hub learns it at once when connected."""
    device = await _owned_hub(request)
    form = await request.post()
    await verify_csrf(request, form)
    values = {k: str(form.get(k, ""))[:300] for k in ("name", "host", "port")}
    try:
        name, host, port = check_lan_target(values["name"], values["host"], values["port"])
        await (
            request.app[STORE]
            .repo(LanTargetRepository)
            .add(device.id, name=name, host=host, port=port, now=request.app[CLOCK].now())
        )
    except InvalidLanTargetError as exc:
        return await _page(
            request, device, error=f"lan.err.{exc.reason}", values=values, status=422
        )
    except ConflictError:
        return await _page(request, device, error="lan.err.taken", values=values, status=409)
    await push_lan_targets(request.app[STORE], request.app[TUNNELS], device.id)
    raise web.HTTPSeeOther(f"/portal/devices/{device.slug}/lan?done=added")


async def lan_remove(request: web.Request) -> web.Response:
    """Ask, then remove a target; the hub forgets it at once when connected."""
    device = await _owned_hub(request)
    repo = request.app[STORE].repo(LanTargetRepository)
    try:
        target = await repo.get(int(request.match_info["target_id"]), device.id)
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound from None
    if request.method == "GET":
        lang = request_language(request)
        context = {
            "csrf_token": await csrf_token(request),
            "question": translate(lang, "lan.remove_question").format(
                name=target.name, address=target.address
            ),
            "action": request.path,
            "cancel": f"/portal/devices/{device.slug}/lan",
            "yes": "ask.yes",
        }
        return render(request, "confirm.html", context)
    await verify_csrf(request, await request.post())
    await repo.remove(target.id, device.id)
    await push_lan_targets(request.app[STORE], request.app[TUNNELS], device.id)
    raise web.HTTPSeeOther(f"/portal/devices/{device.slug}/lan?done=removed")


def setup(app: web.Application) -> None:
    """Register the pages."""
    r = app.router
    r.add_get("/portal/devices/{slug}/lan", lan_page, name="portal_lan")
    r.add_post("/portal/devices/{slug}/lan", lan_add)
    r.add_get("/portal/devices/{slug}/lan/{target_id:\\d+}/delete", lan_remove)
    r.add_post("/portal/devices/{slug}/lan/{target_id:\\d+}/delete", lan_remove)
