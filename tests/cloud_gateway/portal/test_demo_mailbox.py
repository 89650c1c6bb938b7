"""The demo mailbox: a real SMTP mail catcher (aiosmtpd) the gateway sends through, shown as
"Postfach (Demo)" with every mail and its attachments; absent from a production config."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from cloud_gateway.config import GatewayConfig, PortalConfig, SmtpConfig
from simulator.mailcatcher import MailCatcher
from tests.cloud_gateway.portal.support import text_of
from tests.support.gateway import gateway_harness
from tunnel.clock import SystemClock


async def test_registration_mail_arrives_in_the_demo_mailbox(tmp_path: Path) -> None:
    catcher = MailCatcher(tmp_path / "mailbox")
    await catcher.start()
    config = GatewayConfig(
        smtp=SmtpConfig(host=catcher.host, port=catcher.port, poll_interval_s=0.2),
        portal=PortalConfig(demo_mailbox_dir=catcher.folder),
    )
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    try:
        async with gateway_harness(tmp_path, db, SystemClock(), config) as gw, gw.client() as http:
            async with http.get("/demo/mailbox") as resp:
                html = await resp.text()
            assert resp.status == 200
            assert 'id="mailbox-empty"' in html
            assert 'id="demo-mailbox-link"' in html  # the layout links it in the demo

            token = await gw.form_token(http, "/register")
            async with http.get("/register") as resp:
                versions = dict(
                    re.findall(r'name="accept_(\w+)" value="([^"]+)"', await resp.text())
                )
            form = {
                "csrf_token": token,
                "username": "carla",
                "email": "carla@example.org",
                "password": "Sonnig!2026",
                "password2": "Sonnig!2026",
                "accept_terms": versions["terms"],
                "accept_privacy": versions["privacy"],
            }
            async with http.post("/register", data=form) as resp:
                assert resp.status == 200

            # the mail worker delivers through SMTP; the page shows what the catcher filed
            await catcher.wait_for(1)
            async with http.get("/demo/mailbox") as resp:
                listing = await resp.text()
            assert "carla@example.org" in listing
            key = re.search(r'href="/demo/mailbox/([^"]+)"', listing)
            assert key is not None
            async with http.get(f"/demo/mailbox/{key.group(1)}") as resp:
                mail = await resp.text()
            assert "/register/confirm?token=" in mail
            assert 'id="mail-to">carla@example.org<' in mail
    finally:
        await catcher.stop()


async def test_attachments_are_downloadable(tmp_path: Path) -> None:
    catcher = MailCatcher(tmp_path / "mailbox")
    await catcher.start()
    message = EmailMessage()
    message["From"] = "CloudConnector <noreply@localhost>"
    message["To"] = "anna@example.org"
    message["Subject"] = "Ihre Rechnung R2026-000001"
    message["Date"] = "Sat, 05 Dec 2026 20:00:00 +0000"
    message.set_content("Anbei Ihre Rechnung.")
    pdf = b"%PDF-1.7 demo"
    message.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename="Rechnung-R2026-000001.pdf")  # fmt: skip
    config = GatewayConfig(portal=PortalConfig(demo_mailbox_dir=catcher.folder))
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    try:
        await aiosmtplib.send(message, hostname=catcher.host, port=catcher.port)
        async with gateway_harness(tmp_path, db, SystemClock(), config) as gw, gw.client() as http:
            async with http.get("/demo/mailbox") as resp:
                listing = await resp.text()
            assert "Ihre Rechnung R2026-000001" in listing
            assert "05.12.2026, 21:00" in text_of(listing)  # Berlin time, German format
            key = re.search(r'href="/demo/mailbox/([^"]+)"', listing)
            assert key is not None
            async with http.get(f"/demo/mailbox/{key.group(1)}") as resp:
                page = await resp.text()
            assert "Rechnung-R2026-000001.pdf" in page
            async with http.get(f"/demo/mailbox/{key.group(1)}/attachments/0") as resp:
                assert resp.status == 200
                assert resp.content_type == "application/pdf"
                assert await resp.read() == pdf
            async with http.get(f"/demo/mailbox/{key.group(1)}/attachments/1") as resp:
                assert resp.status == 404
            async with http.get("/demo/mailbox/..%2F..%2Fetc") as resp:
                assert resp.status == 404
    finally:
        await catcher.stop()


async def test_production_has_no_mailbox(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, SystemClock()) as gw, gw.client() as http:
        async with http.get("/demo/mailbox") as resp:
            assert resp.status == 404
        async with http.get("/") as resp:
            assert "/demo/mailbox" not in await resp.text()
