"""Old clients against the new gateway (DESIGN: "the gateway keeps accepting older
protocol versions, and tests run old clients against the new gateway").

Only protocol v1 exists. These clients speak to the real gateway over TLS with an
enrolled device's certificate: a v1-only client with the least it can say, a client
that also offers a version this gateway does not know yet, and one from the future
that shares no version with it.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest

from cloud_gateway.config import GatewayConfig, HttpConfig
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.http.keys import TUNNELS
from tests.support.device_webui import LoopbackResolver, browser, start_webui
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.tunnel_device import TestDevice, enrol_device, splice_to
from tunnel.clock import ManualClock
from tunnel.device_end import DeviceSession
from tunnel.errors import RefusedError
from tunnel.frames import Hello, RefusalReason, Welcome, decode
from tunnel.streams import Stream
from tunnel.ws import AIOHTTP_MAX_MSG_SIZE, WebSocketTransport

PORTAL = "gateway.localhost"

V1_MINIMAL_HELLO = bytes.fromhex("0101000000000000") + (
    b'{"versions":[1],"capabilities":[],"software":"ccu-addon 0.1","device_kind":"ccu"}'
)
"""HELLO as the first v1 clients put it on the wire: header (wire version 1, type
HELLO, flags 0, reserved, stream 0), then the JSON body. Literal bytes, so a change of
the encoder cannot hide a change of what old clients send."""


@dataclass
class Enrolled:
    gw: GatewayHarness
    device: TestDevice
    slug: str
    webui_port: int

    @property
    def tunnel_url(self) -> str:
        return self.gw.url.rstrip("/") + "/tunnel/v1"

    async def serve(self, stream: Stream) -> None:
        await splice_to(stream, "127.0.0.1", self.webui_port)


@asynccontextmanager
async def enrolled(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Enrolled]:
    runner, port = await start_webui()
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    config = replace(GatewayConfig(), remote_domain=PORTAL, http=HttpConfig(public_host=PORTAL))
    try:
        async with gateway_harness(tmp_path, db, clock, config) as gw:
            await gw.create_account("anna")
            device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
            slug = await enrol_device(gw, device, "anna")
            yield Enrolled(gw, device, slug, port)
    finally:
        await runner.cleanup()


@asynccontextmanager
async def old_client(
    env: Enrolled, versions: Sequence[int], capabilities: Sequence[str] = ()
) -> AsyncIterator[tuple[DeviceSession, Welcome]]:
    """A device that says HELLO with exactly these versions and capabilities (an old
    device: without the tunnel's own ``pipelined_open``, unless listed)."""
    ctx: ssl.SSLContext = env.device.client_ssl()
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=ctx, resolver=LoopbackResolver())
    ) as http:
        ws = await http.ws_connect(env.tunnel_url, max_msg_size=AIOHTTP_MAX_MSG_SIZE)
        session = DeviceSession(
            WebSocketTransport(ws),
            on_open=env.serve,
            pipelined_open="pipelined_open" in capabilities,
        )
        try:
            hello = Hello(tuple(versions), tuple(capabilities), "old-device 0.1", "ccu")
            welcome = await session.handshake(hello)
            task = asyncio.create_task(session.run(), name="old client session")
            try:
                yield session, welcome
            finally:
                await session.close()
                await task
        finally:
            await ws.close()


async def _live_version(env: Enrolled) -> int:
    registry = env.gw.gateway.runner.app[TUNNELS]
    device = await env.gw.gateway.store.repo(DeviceRepository).get_by_slug(env.slug)
    async with asyncio.timeout(5):
        while (tunnel := registry.get(device.id)) is None:  # noqa: ASYNC110 - registry has no event
            await asyncio.sleep(0.01)
    return tunnel.protocol_version


async def _remote_get(env: Enrolled) -> str:
    """The owner opens the device remotely through whichever tunnel is live."""
    gw = env.gw
    async with browser(gw.url, gw.ssl_context) as http:
        await gw.login(http, "anna")
        token = await gw.form_token(http, f"/remote/{env.slug}/open")
        async with http.post(f"/remote/{env.slug}/open", data={"csrf_token": token}) as landed:
            assert landed.status == 200
            return await landed.text()


async def test_v1_client_with_minimal_capabilities_is_served(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with enrolled(tmp_path, clock) as env, old_client(env, (1,)) as (_session, welcome):
        assert welcome.version == 1
        assert welcome.capabilities == ()  # nothing the client did not offer
        assert await _live_version(env) == 1
        assert "CCU WebUI" in await _remote_get(env)  # streams work without capabilities


async def test_client_offering_a_future_version_gets_v1(tmp_path: Path, clock: ManualClock) -> None:
    offered = ("telemetry", "streams", "compression-zstd")
    async with (
        enrolled(tmp_path, clock) as env,
        old_client(env, (1, 2), offered) as (_session, welcome),
    ):
        assert welcome.version == 1
        assert "compression-zstd" not in welcome.capabilities
        assert set(welcome.capabilities) <= {"telemetry", "streams"}
        assert await _live_version(env) == 1
        assert "CCU WebUI" in await _remote_get(env)


async def test_a_current_client_gets_pipelined_open(tmp_path: Path, clock: ManualClock) -> None:
    offered = ("telemetry", "pipelined_open")
    async with enrolled(tmp_path, clock) as env, old_client(env, (1,), offered) as (_s, welcome):
        assert "pipelined_open" in welcome.capabilities
        assert "CCU WebUI" in await _remote_get(env)


async def test_client_without_a_common_version_is_refused_outdated(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with enrolled(tmp_path, clock) as env:
        with pytest.raises(RefusedError) as refused:
            async with old_client(env, (99,)):
                pytest.fail("a v99-only client was accepted")
        assert refused.value.reason is RefusalReason.OUTDATED
        assert refused.value.retry_after > 0
        device = await env.gw.gateway.store.repo(DeviceRepository).get_by_slug(env.slug)
        assert env.gw.gateway.runner.app[TUNNELS].get(device.id) is None


async def test_the_first_v1_hello_bytes_are_still_welcomed(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with (
        enrolled(tmp_path, clock) as env,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=env.device.client_ssl(), resolver=LoopbackResolver())
        ) as http,
        http.ws_connect(env.tunnel_url, max_msg_size=AIOHTTP_MAX_MSG_SIZE) as ws,
    ):
        await ws.send_bytes(V1_MINIMAL_HELLO)
        answer = await ws.receive_bytes(timeout=5)
        welcome = decode(answer)
        assert isinstance(welcome, Welcome), welcome
        assert welcome.version == 1
        assert welcome.capabilities == ()
        assert answer[:2] == b"\x01\x02"  # wire version 1, WELCOME
        body = json.loads(answer[8:])
        assert body["version"] == 1
