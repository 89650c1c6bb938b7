"""The landing page of the hub's signed "Zugang buchen" link (R-CCU-11, ``docs/deeplink.md``).

::

    GET  /shop/hub?device&account&package&expires&cert&sig   who will be credited; next step
    POST /shop/hub/confirm?…   (CSRF) logged in as the linked account: the hub's package
                               into the cart, then the cart (303 /shop/cart)
    POST /shop/hub/switch?…    (CSRF) explicit account switch: log out, log in, come back

Logged in as another account than the hub's, the page warns loudly and offers only the
switch; ``confirm`` refuses (409) to book anything for the wrong account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from aiohttp import web

from cloud_gateway.accounts.flows import base_url
from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.auth import current_identity, end_session, verify_csrf
from cloud_gateway.http.keys import CLOCK, DEVICE_CA, SHOP, SHOP_TEMPLATES, STORE
from cloud_gateway.shop import texts
from cloud_gateway.shop.deeplink import (
    LinkRefusal,
    ShopLink,
    ShopLinkError,
    parse_shop_link,
    verify_shop_link,
)
from cloud_gateway.shop.pages import setup as setup_pages
from cloud_gateway.shop.web import make_shop_templates, render_shop
from cloud_gateway.tunnels.device_ca import serial_hex
from cloud_gateway.tunnels.repository_certificates import DeviceCertificateRepository

__all__ = ["setup"]


@dataclass(frozen=True, slots=True)
class _Checked:
    link: ShopLink
    device: Device
    linked: Account


def _render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    return render_shop(request, template, context, status=status)


def _login_url(request: web.Request) -> str:
    """The login page, coming back to the landing page of the same link."""
    return "/login?next=" + quote(f"/shop/hub?{request.query_string}", safe="/")


def _refused(request: web.Request, error: ShopLinkError) -> web.Response:
    status = 400 if error.reason is LinkRefusal.MALFORMED else 403
    return _render(request, "shop_hub_refused.html", {"reason": error.reason.value}, status=status)


async def _check(request: web.Request) -> _Checked:
    """The verified link, its device and the account it credits; raises ShopLinkError."""
    link = parse_shop_link(request.query)
    verify_shop_link(link, ca_cert=request.app[DEVICE_CA].cert, now=request.app[CLOCK].now())
    store = request.app[STORE]
    try:
        device = await store.repo(DeviceRepository).get_by_slug(link.device_slug)
    except NotFoundError as exc:
        raise ShopLinkError(LinkRefusal.UNTRUSTED_CERTIFICATE, "unknown device") from exc
    issued = await store.repo(DeviceCertificateRepository).get(serial_hex(link.certificate))
    if issued is None or issued.revoked or issued.device_id != device.id:
        raise ShopLinkError(LinkRefusal.UNTRUSTED_CERTIFICATE, "certificate not issued or revoked")
    if device.account_id is None or device.account_id != link.account_id:
        raise ShopLinkError(LinkRefusal.WRONG_ACCOUNT, "hub linked to another account")
    try:
        linked = await store.repo(AccountRepository).get(link.account_id)
    except NotFoundError as exc:
        raise ShopLinkError(LinkRefusal.WRONG_ACCOUNT, "account gone") from exc
    return _Checked(link, device, linked)


async def landing(request: web.Request) -> web.Response:
    """Show whom the booking credits, and the one way on for this browser.

    On another host name than the gateway's canonical one (the add-on may know the gateway
    by address), the browser is sent to the canonical host first, where its portal session
    lives, so a logged-in user does not log in twice.
    """
    canonical = base_url(request)
    if urlsplit(canonical).hostname != (request.url.host or "").lower():
        raise web.HTTPSeeOther(canonical.rstrip("/") + request.path_qs)
    try:
        checked = await _check(request)
    except ShopLinkError as error:
        return _refused(request, error)
    identity = await current_identity(request)
    context = {
        "link": checked.link,
        "device": checked.device,
        "linked": checked.linked,
        "current": identity.account if identity else None,
        "csrf_token": identity.session.csrf_token if identity else "",
        "query": request.query_string,
        "here": request.path_qs,
    }
    return _render(request, "shop_hub.html", context)


async def confirm(request: web.Request) -> web.Response:
    """Logged in as the linked account: the hub's package goes into the cart, then the cart."""
    identity = await current_identity(request)
    if identity is None:
        raise web.HTTPSeeOther(_login_url(request))
    await verify_csrf(request, await request.post())
    try:
        checked = await _check(request)
    except ShopLinkError as error:
        return _refused(request, error)
    if identity.account.id != checked.linked.id:
        raise web.HTTPConflict(
            text="this booking link credits another account; switch accounts explicitly"
        )
    shop = request.app[SHOP]
    line = await shop.hub_line(checked.linked.id, checked.link.package)
    await shop.add(checked.linked.id, line.product, line.plan, line.booking)
    raise web.HTTPSeeOther(
        "/shop/cart?" + urlencode({"hub": checked.device.name or checked.device.slug})
    )


async def switch(request: web.Request) -> web.Response:
    """Explicit account switch: log out here, log in again, come back to the link."""
    await verify_csrf(request, await request.post())
    response = web.HTTPSeeOther(_login_url(request))
    await end_session(request, response)
    raise response


def setup(app: web.Application) -> None:
    """Register the shop's routes (needs STORE, CLOCK and DEVICE_CA on ``app``)."""
    app[SHOP_TEMPLATES] = make_shop_templates()
    texts.register()
    app.router.add_get("/shop/hub", landing, name="shop_hub")
    app.router.add_post("/shop/hub/confirm", confirm, name="shop_hub_confirm")
    app.router.add_post("/shop/hub/switch", switch, name="shop_hub_switch")
    setup_pages(app)
