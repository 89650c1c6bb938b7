"""Remote access through a real tunnel to a local "device web UI" (R-DEV-7, R-DEV-11).

Browser ──TLS──► gateway (device host) ──tunnel stream──► test device ──TCP──► web UI.
"""

from __future__ import annotations

import asyncio
import hashlib
import resource
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.config import GatewayConfig, HttpConfig
from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.http.keys import CONFIG
from cloud_gateway.remote import routes as remote_routes
from cloud_gateway.remote.repository import RemoteAccessRepository
from tests.support.device_webui import browser, pattern_blocks, pattern_sha256, start_webui
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.tunnel_device import (
    TestDevice,
    TunnelClient,
    enrol_device,
    open_tunnel,
    splice_to,
)
from tunnel.clock import ManualClock
from tunnel.streams import Stream

PORTAL = "gateway.localhost"


@dataclass
class Remote:
    gw: GatewayHarness
    slug: str
    client: TunnelClient

    @property
    def device_url(self) -> str:
        return f"https://{self.slug}.{PORTAL}:{self.gw.gateway.port}"

    async def device(self) -> Device:
        return await self.gw.gateway.store.repo(DeviceRepository).get_by_slug(self.slug)

    def browser(self) -> aiohttp.ClientSession:
        return browser(self.gw.url, self.gw.ssl_context)

    async def open(
        self, http: aiohttp.ClientSession, login: str = "anna"
    ) -> aiohttp.ClientResponse:
        """Log in on the portal and press "Fernzugriff öffnen"."""
        await self.gw.login(http, login)
        token = await self.gw.form_token(http, f"/remote/{self.slug}/open")
        async with http.post(f"/remote/{self.slug}/open", data={"csrf_token": token}) as resp:
            await resp.read()
            return resp


Serve = Callable[[Stream, int], Awaitable[None]]


async def _splice_webui(stream: Stream, port: int) -> None:
    assert stream.target == "webui"
    await splice_to(stream, "127.0.0.1", port)


@asynccontextmanager
async def remote_env(
    tmp_path: Path, clock: ManualClock, on_open: Serve = _splice_webui
) -> AsyncIterator[Remote]:
    """``on_open`` gets each stream the gateway opens and the web UI's port."""
    runner, port = await start_webui()

    async def serve(stream: Stream) -> None:
        await on_open(stream, port)

    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    # OpenSSL and browsers match no wildcard directly under a single label (*.localhost),
    # so the portal lives at gateway.localhost and devices below it.
    config = replace(GatewayConfig(), remote_domain=PORTAL, http=HttpConfig(public_host=PORTAL))
    try:
        async with gateway_harness(tmp_path, db, clock, config) as gw:
            await gw.create_account("anna")
            device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
            slug = await enrol_device(gw, device, "anna")
            client = await open_tunnel(gw.url, device.client_ssl(), on_open=serve)
            try:
                yield Remote(gw, slug, client)
            finally:
                await client.stop()
    finally:
        await runner.cleanup()


async def test_owner_opens_the_device_web_ui_through_the_tunnel(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with remote_env(tmp_path, clock) as env, env.browser() as http:
        landed = await env.open(http)
        assert landed.status == 200
        assert str(landed.url) == f"{env.device_url}/"
        assert "CCU WebUI" in await landed.text()
        handover = landed.history[-1]
        assert "/__remote/handover?token=" in str(handover.url)
        cookie = handover.cookies["__Host-remote"]
        assert cookie["secure"]
        assert cookie["httponly"]
        assert not cookie["domain"]  # host-only

        # keep-alive: several requests on the device host, gateway cookies stripped
        for _ in range(3):
            async with http.get(f"{env.device_url}/headers", headers={"Cookie": "own=1"}) as r:
                seen = await r.json()
        headers, cookies = seen["headers"], seen["cookies"]
        assert "__Host-remote" not in cookies
        assert "__Host-session" not in cookies
        assert headers["X-Forwarded-Proto"] == "https"
        assert headers["X-Forwarded-For"] == "127.0.0.1"
        assert headers["X-Forwarded-Host"] == f"{env.slug}.{PORTAL}:{env.gw.gateway.port}"

        # a device cannot set the gateway's cookies; its own cookies pass
        async with http.get(f"{env.device_url}/cookies") as r:
            set_cookies = r.headers.getall("Set-Cookie")
        assert any(c.startswith("ccu_sid=device-own") for c in set_cookies)
        assert not any(c.startswith("__Host-remote") for c in set_cookies)

        # the handover token is single use
        async with http.get(str(handover.url), allow_redirects=False) as again:
            assert again.status == 401

    async with env.browser() as http:
        pass
    audit = await env.gw.gateway.store.repo(RemoteAccessRepository).list_sessions(
        device_id=(await env.device()).id
    )
    assert len(audit) == 1
    record = audit[0]
    assert record.username == "anna"
    assert record.source_address == "127.0.0.1"
    assert record.requests >= 5
    assert record.bytes_from_device > 0
    assert record.bytes_to_device > 0


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(1, id="1B"),
        pytest.param(3 * 1024 * 1024 + 17, id="3MiB"),
        pytest.param(100 * 1024 * 1024, id="100MiB", marks=pytest.mark.slow),
    ],
)
async def test_streamed_download_and_upload(tmp_path: Path, clock: ManualClock, size: int) -> None:
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with remote_env(tmp_path, clock) as env, env.browser() as http:
        await env.open(http)
        for length in ("", "&length=1"):
            digest, got = hashlib.sha256(), 0
            async with http.get(f"{env.device_url}/download?size={size}{length}") as r:
                assert r.status == 200
                async for chunk in r.content.iter_chunked(65536):
                    digest.update(chunk)
                    got += len(chunk)
            assert got == size
            assert digest.hexdigest() == pattern_sha256(size)

        async def body() -> AsyncIterator[bytes]:
            for block in pattern_blocks(size):
                yield block

        async with http.post(f"{env.device_url}/upload", data=body()) as r:
            answer = await r.json()
        assert answer == {"size": size, "sha256": pattern_sha256(size)}
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 64 * 1024, "a body was buffered whole somewhere"


async def test_websocket_echo_through_the_tunnel(tmp_path: Path, clock: ManualClock) -> None:
    async with remote_env(tmp_path, clock) as env, env.browser() as http:
        await env.open(http)
        async with http.ws_connect(f"{env.device_url}/ws", origin=env.device_url) as ws:
            await ws.send_str("hallo")
            assert await ws.receive_str() == "echo: hallo"
            await ws.send_bytes(b"\x00\x01" * 40000)
            assert await ws.receive_bytes() == b"\x00\x01" * 40000
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{env.device_url}/ws", origin="https://evil.example")
        assert refused.value.status == 403


async def test_other_accounts_and_anonymous_browsers_get_clear_pages(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with remote_env(tmp_path, clock) as env:
        await env.gw.create_account("bert")
        async with env.browser() as http:
            async with http.get(f"{env.device_url}/") as r:
                assert r.status == 401
                page = await r.text()
            assert "nicht angemeldet" in page
            await env.gw.login(http, "bert")
            async with http.get(f"/remote/{env.slug}/open") as r:
                assert r.status == 404
            async with http.get(f"{env.device_url}/") as r:
                assert r.status == 401

        # anna's remote session, then the device changes hands: refused as "not yours"
        async with env.browser() as http:
            await env.open(http)
            bert = await env.gw.gateway.store.repo(AccountRepository).find_by_login("bert")
            assert bert is not None
            engine = env.gw.gateway.store.engine
            async with engine.begin() as conn:
                await conn.exec_driver_sql(
                    "UPDATE devices SET account_id = ? WHERE slug = ?", (bert.id, env.slug)
                )
            # nobody announced the change: it is enforced once the gate's checks expire
            clock.advance(env.gw.gateway.runner.app[CONFIG].remote.access_recheck_s)
            async with http.get(f"{env.device_url}/") as r:
                assert r.status == 403
                page = await r.text()
            assert "gehört nicht zu Ihrem Konto" in page
            assert 'data-reason="not_yours"' in page


async def test_offline_and_not_entitled_devices_get_clear_pages(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with remote_env(tmp_path, clock) as env, env.browser() as http:
        await env.open(http)
        await env.gw.gateway.store.repo(DeviceRepository).set_disabled(env.slug, disabled=True)
        clock.advance(5)  # unannounced (no operator action): enforced within 5 s
        async with http.get(f"{env.device_url}/?lang=en") as r:
            assert r.status == 403
            assert "not booked" in await r.text()
        await env.gw.gateway.store.repo(DeviceRepository).set_disabled(env.slug, disabled=False)
        clock.advance(5)
        await env.client.stop()
        async with http.get(f"{env.device_url}/?lang=de") as r:
            assert r.status == 503
            assert "nicht mit der Cloud verbunden" in await r.text()


async def test_the_request_travels_with_the_open_not_after_open_ok(
    tmp_path: Path, clock: ManualClock
) -> None:
    # The device looks at each stream before accepting it (no OPEN_OK sent yet): the
    # request's bytes are already there, so the proxy did not wait a round trip for it.
    before_accepting: list[int] = []

    async def wait_for_the_request(stream: Stream, port: int) -> None:
        async with asyncio.timeout(5):  # a proxy that waits for OPEN_OK never sends it
            await stream.wait_buffered()
        assert not stream.accepted
        before_accepting.append(stream.buffered)
        await _splice_webui(stream, port)

    async with (
        remote_env(tmp_path, clock, on_open=wait_for_the_request) as env,
        env.browser() as http,
    ):
        landed = await env.open(http)
        assert landed.status == 200
        assert "CCU WebUI" in await landed.text()
    assert before_accepting
    assert all(size > len(b"GET / HTTP/1.1\r\n") for size in before_accepting)


async def test_a_web_ui_the_device_cannot_reach_gets_the_unreachable_page(
    tmp_path: Path, clock: ManualClock
) -> None:
    # The device answers OPEN_FAIL after the pipelined request was already sent: the
    # browser gets the clear "does not answer" page, not an error.
    async def refuse(stream: Stream, port: int) -> None:
        raise ConnectionRefusedError(f"nothing listens for {stream.target}")

    async with remote_env(tmp_path, clock, on_open=refuse) as env, env.browser() as http:
        landed = await env.open(http)
        assert landed.status == 502
        assert "Weboberfläche antwortet nicht" in await landed.text()
        async with http.get(f"{env.device_url}/?lang=en") as r:
            assert r.status == 502
            assert "web interface does not answer" in await r.text()


async def test_an_open_the_device_leaves_unanswered_gets_the_unreachable_page(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The device neither accepts nor refuses: after OPEN_TIMEOUT the gateway resets the
    # pipelined stream and the browser gets the "does not answer" page.
    monkeypatch.setattr(remote_routes, "OPEN_TIMEOUT", 0.2)
    reset_seen: list[bool] = []

    async def never_answer(stream: Stream, port: int) -> None:
        await stream.wait_finished()
        reset_seen.append(stream.error is not None)

    async with remote_env(tmp_path, clock, on_open=never_answer) as env, env.browser() as http:
        landed = await env.open(http)
        assert landed.status == 502
        assert "Weboberfläche antwortet nicht" in await landed.text()
    assert reset_seen
    assert all(reset_seen)
