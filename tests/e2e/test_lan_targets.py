"""Netzwerkgeräte (R-DEV-10) end to end: the owner lists a LAN device for his hub in the portal,
the gateway tells the real CCU add-on, and the browser opens the device through the hub's
tunnel at its own device host; removed, it is gone again.

Browser ──TLS──► gateway (<slug>--lan<n> host) ──tunnel stream lan:host:port──► CCU add-on
──TCP──► LAN device (a local web server).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from playwright.async_api import expect

from ccu_addon.app import run_addon
from ccu_addon.config import AddonConfig, CcuConfig, GatewayLink
from cloud_gateway.config import EnrolmentConfig, GatewayConfig, HttpConfig
from cloud_gateway.http.keys import TUNNELS
from cloud_gateway.remote.repository_lan import LanTargetRepository
from cloud_gateway.tunnels.registry import TunnelRegistry
from simulator.ccu.catalog import InterfaceName
from simulator.ccu.server import SimulatedCcu
from tests.cloud_gateway.portal.support import text_of
from tests.support.browser import chromium_browser
from tests.support.device_webui import browser, start_webui
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.hubs import Hub, enrol_hub
from tests.tunnel.sessions import until
from tunnel.clock import ManualClock

PORTAL = "gateway.localhost"


@dataclass
class Home:
    """A gateway, anna's hub run by the real add-on with its tunnel up, and a LAN device."""

    gw: GatewayHarness
    hub: Hub
    registry: TunnelRegistry
    lan_port: int


@asynccontextmanager
async def home(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Home]:
    lan_runner, lan_port = await start_webui()
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    config = replace(
        GatewayConfig(enrolment=EnrolmentConfig(poll_interval_s=0.05)),
        remote_domain=PORTAL,
        http=HttpConfig(public_host=PORTAL),
    )
    try:
        async with (
            gateway_harness(tmp_path, db, clock, config) as gw,
            SimulatedCcu(clock=clock) as ccu,
        ):
            await gw.create_account("anna")
            await gw.create_account("bert")
            assert gw.gateway.tls.ca_cert is not None
            addon = AddonConfig(
                state_dir=tmp_path / "addon",
                listen_port=0,
                # the hub reaches the gateway by address (its certificate has IP SANs)
                gateway=GatewayLink(
                    url=f"https://127.0.0.1:{gw.gateway.port}/", ca_file=gw.gateway.tls.ca_cert
                ),
                ccu=replace(
                    CcuConfig(),
                    webui_url=ccu.webui_url + "/",
                    jsonrpc_url=f"{ccu.webui_url}/api/homematic.cgi",
                    xmlrpc_urls=(ccu.xmlrpc_url(InterfaceName.HMIP_RF),),
                ),
            )
            hub = await enrol_hub(
                gw, addon.state_dir, "anna", lambda: browser(gw.url, gw.ssl_context)
            )
            stop = asyncio.Event()
            daemon = asyncio.create_task(run_addon(addon, stop, clock=clock))
            registry = gw.gateway.runner.app[TUNNELS]
            try:
                async with asyncio.timeout(30):
                    await until(lambda: bool(registry.live()))
                yield Home(gw, hub, registry, lan_port)
            finally:
                stop.set()
                async with asyncio.timeout(30):
                    await daemon
    finally:
        await lan_runner.cleanup()


async def test_owner_adds_opens_and_removes_a_lan_device(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with home(tmp_path, clock) as env:
        gw, hub, registry, lan_port = env.gw, env.hub, env.registry, env.lan_port
        async with browser(gw.url, gw.ssl_context) as http:
            await gw.login(http, "anna")
            async with http.get("/portal/devices") as resp:
                assert f'href="/portal/devices/{hub.slug}/lan"' in await resp.text()
            page = f"/portal/devices/{hub.slug}/lan"
            token = await gw.form_token(http, page)
            bad = {"csrf_token": token, "name": "Router", "host": "http://fritz.box/",
                   "port": "80"}  # fmt: skip
            async with http.post(page, data=bad) as resp:
                html = await resp.text()
            assert resp.status == 422
            assert "ohne http://" in text_of(html)
            assert 'value="Router"' in html
            good = {**bad, "host": "127.0.0.1", "port": str(lan_port)}
            async with http.post(page, data=good) as resp:
                html = await resp.text()
            assert 'id="lan-notice"' in html
            found = re.search(r'name="lan" value="(\d+)"', html)
            assert found is not None
            lan_id = int(found.group(1))
            # the open form may redirect to the LAN device's host (CSP form-action)
            lan_host = f"https://{hub.slug}--lan{lan_id}.{PORTAL}:{gw.gateway.port}"
            assert lan_host in resp.headers["Content-Security-Policy"]

            opened = {"csrf_token": token, "lan": str(lan_id)}
            async with http.post(f"/remote/{hub.slug}/open", data=opened) as resp:
                await resp.read()
            assert str(resp.url) == f"{lan_host}/"
            assert resp.status == 200
            async with http.get(f"{lan_host}/headers") as resp:
                seen = await resp.json()  # answered by the LAN device, not the CCU
            assert seen["headers"]["X-Forwarded-Proto"] == "https"
            assert "__Host-remote" not in seen["cookies"]

            # the owner's remote-access log: who, when, from where, how much
            async with http.get("/portal/devices/audit") as resp:
                audit = await resp.text()
            row = re.search(
                r"<tr><td>" + re.escape(hub.slug) + r"</td>(.*?)</tr>", audit, re.DOTALL
            )
            assert row is not None
            assert "<td>anna</td><td>127.0.0.1</td>" in row.group(1)

            # another account cannot manage or open it, nor see its log
            async with browser(gw.url, gw.ssl_context) as other:
                await gw.login(other, "bert")
                async with other.get(page) as resp:
                    assert resp.status == 404
                async with other.get("/portal/devices/audit") as resp:
                    assert hub.slug not in await resp.text()
                async with other.get(f"{lan_host}/headers") as resp:
                    assert resp.status != 200

            # removed after a question: gone from the list and from the hub's host
            remove = f"{page}/{lan_id}/delete"
            async with http.get(remove) as resp:
                assert 'id="confirm-question"' in await resp.text()
            async with http.post(remove, data={"csrf_token": token}) as resp:
                assert 'id="lan-empty"' in await resp.text()
            repo = gw.gateway.store.repo(LanTargetRepository)
            device = registry.live()[0].device
            assert await repo.list_for_device(device.id) == []
            async with http.get(f"{lan_host}/headers") as resp:
                refusal = await resp.text()
            assert resp.status == 403
            assert 'data-reason="not_yours"' in refusal


@pytest.mark.browser
async def test_owner_opens_a_lan_device_in_chromium(tmp_path: Path, clock: ManualClock) -> None:
    async with home(tmp_path, clock) as env, chromium_browser() as chromium:
        gw = env.gw
        ctx = await chromium.new_context(ignore_https_errors=True, locale="de-DE")
        page = await ctx.new_page()
        await page.goto(gw.url + "login")
        await page.fill("input[name=login]", "anna")
        await page.fill("input[name=password]", "Sonnig!2026")
        await page.click("main button[type=submit]")
        await page.wait_for_url("**/portal")
        await page.click("nav.main >> text=Geräte")
        await page.click(f"#lan-{env.hub.slug}")
        await page.fill("#lan-form input[name=name]", "Router im Keller")
        await page.fill("#lan-form input[name=host]", "127.0.0.1")
        await page.fill("#lan-form input[name=port]", str(env.lan_port))
        await page.click("#lan-form button[type=submit]")
        await expect(page.locator("#lan-notice")).to_contain_text("Netzwerkgerät hinzugefügt")
        await expect(page.locator("#lan-targets")).to_contain_text(f"127.0.0.1:{env.lan_port}")
        async with ctx.expect_page() as opened:
            await page.click("#lan-targets button[type=submit]")
        lan = await opened.value
        await lan.wait_for_load_state()
        assert f"{env.hub.slug}--lan" in lan.url
        await expect(lan.locator("body")).to_have_text("CCU WebUI")  # the LAN device's page
        await lan.goto(lan.url.rstrip("/") + "/headers")
        assert '"X-Forwarded-Proto": "https"' in await lan.inner_text("body")
        await ctx.close()
