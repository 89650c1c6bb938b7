"""The WebUI of the simulated CCU: login, sid URLs, pages, assets and the transfer endpoints."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from simulator.ccu import CcuConfig, SimulatedCcu, big_file_chunks
from tests.simulator.ccu_support import jsonrpc
from tunnel.clock import ManualClock

SID = re.compile(r"/pages/index\.htm\?sid=(@[A-Za-z0-9]{10}@)$")


@pytest.fixture
async def ccu(clock: ManualClock) -> AsyncIterator[SimulatedCcu]:
    async with SimulatedCcu(CcuConfig(big_file_size=300_000), clock=clock) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def webui_login(http: aiohttp.ClientSession, ccu: SimulatedCcu) -> str:
    form = {"username": "Admin", "password": "admin"}
    async with http.post(f"{ccu.webui_url}/login.htm", data=form, allow_redirects=False) as r:
        assert r.status == 302
        match = SID.search(r.headers["Location"])
    assert match is not None
    return match.group(1)


async def test_login_page(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{ccu.webui_url}/") as response:
        assert response.status == 200
        page = await response.text()
    assert 'action="/login.htm"' in page
    assert "Anmelden" in page


async def test_failed_login_shows_the_form_again(
    ccu: SimulatedCcu, http: aiohttp.ClientSession
) -> None:
    form = {"username": "Admin", "password": "falsch"}
    async with http.post(f"{ccu.webui_url}/login.htm", data=form, allow_redirects=False) as r:
        assert r.status == 200
        assert "Anmeldung fehlgeschlagen" in await r.text()


async def test_pages_and_their_assets_load(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    sid = await webui_login(http, ccu)
    for page in ("index.htm", "devices.htm"):
        async with http.get(f"{ccu.webui_url}/pages/{page}", params={"sid": sid}) as response:
            assert response.status == 200
            html = await response.text()
        assert f"sid={sid}" in html
        assets = re.findall(r'(?:href|src)="(/(?:webui|pages)/[^"?]+)"', html)
        assert {"/webui/style.css", "/webui/webui.js", "/pages/img/ccu-logo.svg"} <= set(assets)
        for asset in assets:
            async with http.get(f"{ccu.webui_url}{asset}", params={"sid": sid}) as response:
                assert response.status == 200, asset
    async with http.get(f"{ccu.webui_url}/pages/devices.htm", params={"sid": sid}) as response:
        assert "HmIP-eTRV" in await response.text()


async def test_pages_need_a_live_sid(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    for sid in ("", "@AAAAAAAAAA@"):
        async with http.get(
            f"{ccu.webui_url}/pages/index.htm", params={"sid": sid}, allow_redirects=False
        ) as response:
            assert response.status == 302
            assert response.headers["Location"] == "/login.htm"


async def test_webui_sid_is_the_jsonrpc_session(
    ccu: SimulatedCcu, http: aiohttp.ClientSession
) -> None:
    sid = await webui_login(http, ccu)
    answer = await jsonrpc(http, ccu.webui_url, "Session.renew", _session_id_=sid.strip("@"))
    assert answer["result"] is True
    async with http.get(f"{ccu.webui_url}/logout.htm", params={"sid": sid}, allow_redirects=False):
        pass
    answer = await jsonrpc(http, ccu.webui_url, "Session.renew", _session_id_=sid.strip("@"))
    assert answer["result"] is False


async def test_big_file_is_streamed(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    expected = hashlib.sha256(b"".join(big_file_chunks(300_000))).hexdigest()
    async with http.get(f"{ccu.webui_url}/webui/big.bin") as response:
        assert response.content_length == 300_000
        body = await response.read()
    assert len(body) == 300_000
    assert body[:3] == b"\x00\x01\x02"
    assert body[251] == 0
    assert hashlib.sha256(body).hexdigest() == expected
    async with http.get(f"{ccu.webui_url}/webui/big.bin", params={"size": "7"}) as response:
        assert await response.read() == bytes(range(7))


async def test_upload_counts_and_hashes(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    async def body() -> AsyncIterator[bytes]:
        for chunk in big_file_chunks(2_000_000):
            yield chunk

    expected = hashlib.sha256(b"".join(big_file_chunks(2_000_000))).hexdigest()
    async with http.post(f"{ccu.webui_url}/webui/upload", data=body()) as response:
        assert await response.json() == {"bytes": 2_000_000, "sha256": expected}


async def test_websocket_echo(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(f"{ccu.webui_url}/webui/ws-echo") as ws:
        await ws.send_str("Hallo CCU")
        assert await ws.receive_str() == "Hallo CCU"
        await ws.send_bytes(b"\x00\xff" * 1000)
        assert await ws.receive_bytes() == b"\x00\xff" * 1000


async def test_addon_area(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{ccu.webui_url}/addons/cloudconnector/") as response:
        assert response.status == 404

    async def addon_page(request: web.Request) -> web.Response:
        # what an add-on page does: check the sid of its URL with the CCU
        sid = request.query.get("sid", "").strip("@")
        answer = await jsonrpc(http, ccu.webui_url, "Session.renew", _session_id_=sid)
        if answer["result"] is not True:
            return web.Response(status=403, text="Bitte anmelden")
        return web.Response(text=f"Add-on {request.path} ok", content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", addon_page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        ccu.mount_addon("cloudconnector", f"http://127.0.0.1:{runner.addresses[0][1]}/")
        sid = await webui_login(http, ccu)
        url = f"{ccu.webui_url}/addons/cloudconnector/index.html"
        async with http.get(url, params={"sid": sid}) as response:
            assert response.status == 200
            assert await response.text() == "Add-on /index.html ok"
        async with http.get(url, params={"sid": "@XXXXXXXXXX@"}) as response:
            assert response.status == 403
        async with http.get(f"{ccu.webui_url}/pages/index.htm", params={"sid": sid}) as response:
            assert "/addons/cloudconnector/" in await response.text()
    finally:
        ccu.unmount_addon("cloudconnector")
        await runner.cleanup()
