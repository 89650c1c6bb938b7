"""Portal pages: devices, remote-access log, the account page, legal texts, demo mailbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.http.auth import require_identity
from cloud_gateway.http.keys import CONFIG, STORE, TUNNELS
from cloud_gateway.http.pages import render
from cloud_gateway.i18n import request_language
from cloud_gateway.portal import mailbox
from cloud_gateway.portal.legal import LegalDocument, load_legal
from cloud_gateway.remote.repository import RemoteAccessRepository

__all__ = ["setup"]


async def devices_page(request: web.Request) -> web.Response:
    """The account's devices with their connection state and remote access."""
    identity = await require_identity(request)
    devices = await request.app[STORE].repo(DeviceRepository).list_for_account(identity.account.id)
    registry = request.app[TUNNELS]
    online = {d.id for d in devices if registry.get(d.id) is not None}
    return render(request, "portal_devices.html", {"devices": devices, "online": online})


async def audit_page(request: web.Request) -> web.Response:
    """Who opened the account's devices remotely: when, from where, how much (R-DEV-11)."""
    identity = await require_identity(request)
    store = request.app[STORE]
    devices = await store.repo(DeviceRepository).list_for_account(identity.account.id)
    remote = store.repo(RemoteAccessRepository)
    sessions = [s for d in devices for s in await remote.list_sessions(device_id=d.id, limit=200)]
    sessions.sort(key=lambda s: s.started_at, reverse=True)
    return render(request, "portal_audit.html", {"sessions": sessions})


async def account_page(request: web.Request) -> web.Response:
    """Account facts and every master-data page."""
    identity = await require_identity(request)
    return render(request, "portal_account.html", {"account": identity.account})


async def legal_page(request: web.Request) -> web.Response:
    """Impressum, Datenschutz, AGB: readable without an account."""
    try:
        document = LegalDocument(request.match_info["document"])
    except ValueError:
        raise web.HTTPNotFound from None
    lang = request_language(request).value
    folder = request.app[CONFIG].portal.legal_dir
    blocks = await asyncio.to_thread(load_legal, document, lang, folder)
    return render(request, "legal.html", {"document": document.value, "blocks": blocks})


def _mailbox_dir(request: web.Request) -> Path:
    """The demo's Maildir; 404 when this is no demo (production has none)."""
    folder = request.app[CONFIG].portal.demo_mailbox_dir
    if folder is None:
        raise web.HTTPNotFound
    return folder


async def mailbox_page(request: web.Request) -> web.Response:
    """Postfach (Demo): every mail the demo's mail catcher received."""
    folder = _mailbox_dir(request)
    mails = await asyncio.to_thread(mailbox.list_mails, folder)
    return render(request, "mailbox.html", {"mails": mails})


async def mailbox_mail(request: web.Request) -> web.Response:
    """One caught mail with its body and attachments."""
    folder = _mailbox_dir(request)
    found = await asyncio.to_thread(mailbox.read_mail, folder, request.match_info["key"])
    if found is None:
        raise web.HTTPNotFound
    return render(request, "mailbox_mail.html", {"mail": found})


async def mailbox_attachment(request: web.Request) -> web.Response:
    """Download one attachment of a caught mail."""
    folder = _mailbox_dir(request)
    found = await asyncio.to_thread(
        mailbox.read_attachment,
        folder,
        request.match_info["key"],
        int(request.match_info["index"]),
    )
    if found is None:
        raise web.HTTPNotFound
    described, data = found
    safe = "".join(c for c in described.filename if c.isalnum() or c in "._-") or "anhang"
    return web.Response(
        body=data,
        content_type=described.content_type,
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


def setup(app: web.Application) -> None:
    """Register the pages."""
    r = app.router
    r.add_get("/portal/devices", devices_page, name="portal_devices")
    r.add_get("/portal/devices/audit", audit_page, name="portal_audit")
    r.add_get("/portal/account", account_page, name="portal_account")
    r.add_get("/legal/{document}", legal_page, name="legal")
    r.add_get("/demo/mailbox", mailbox_page, name="demo_mailbox")
    r.add_get("/demo/mailbox/{key}", mailbox_mail)
    r.add_get("/demo/mailbox/{key}/attachments/{index:\\d+}", mailbox_attachment)
