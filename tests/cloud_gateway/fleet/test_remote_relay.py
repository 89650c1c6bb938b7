"""Remote access through a node that does not hold the tunnel (forwarded over mutual TLS).

Browser ──TLS──► node a (device host) ──mTLS relay──► node b ──tunnel──► device ──► web UI.
Both gateways are real, on one PostgreSQL; the audit is checked on both nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest

from cloud_gateway.config import ClusterConfig, GatewayConfig, HttpConfig
from cloud_gateway.fleet.tls import FLEET_PEER_NAME
from cloud_gateway.http.keys import DRAIN, REMOTE_GATE
from cloud_gateway.remote.gate import Denial
from cloud_gateway.remote.relay import RelayDeniedError, RelayStream
from cloud_gateway.remote.repository import RemoteAccessRepository, RemoteSession
from cloud_gateway.remote.repository_relays import RelayAudit, RelayAuditRepository
from tests.cloud_gateway.fleet.support import fleet_of, started_nodes
from tests.support.device_webui import browser, pattern_sha256, start_webui
from tests.support.gateway import GatewayHarness
from tests.support.tunnel_device import (
    TestDevice,
    TunnelClient,
    enrol_device,
    open_tunnel,
    splice_to,
)
from tunnel.clock import ManualClock
from tunnel.streams import Stream

pytestmark = pytest.mark.postgresql

PORTAL = "gateway.localhost"
TEN_MIB = 10 * 1024 * 1024


def _config(node_id: str) -> GatewayConfig:
    return replace(
        GatewayConfig(),
        remote_domain=PORTAL,
        http=HttpConfig(public_host=PORTAL),
        cluster=ClusterConfig(
            enabled=True, node_id=node_id, lease_poll_s=0.2, drain_grace_s=0.1, drain_spread_s=2.0
        ),
    )


@pytest.fixture
async def nodes(tmp_path: Path, clock: ManualClock) -> AsyncIterator[list[GatewayHarness]]:
    async with started_nodes(tmp_path, clock, [_config("a"), _config("b")]) as started:
        yield started


@dataclass
class _Remote:
    """A browser with remote access to a device whose tunnel ``holder`` holds, opened on
    ``entry``."""

    http: aiohttp.ClientSession
    device_url: str
    client: TunnelClient
    landing: str


@asynccontextmanager
async def _remote(
    entry: GatewayHarness, holder: GatewayHarness, tmp_path: Path, *, refuse: bool = False
) -> AsyncIterator[_Remote]:
    """``refuse``: the device answers every stream but the landing page's with OPEN_FAIL."""
    runner, port = await start_webui()
    opened = 0

    async def serve(stream: Stream) -> None:
        nonlocal opened
        opened += 1
        if refuse and opened > 1:
            raise ConnectionRefusedError("nothing listens there")
        await splice_to(stream, "127.0.0.1", port)

    await entry.create_account("anna")
    device = TestDevice(tmp_path / "device", entry.gateway.tls.ca_cert or Path())
    slug = await enrol_device(entry, device, "anna")
    client = await open_tunnel(holder.url, device.client_ssl(), on_open=serve)
    try:
        async with browser(entry.url, entry.ssl_context) as http:
            await entry.login(http, "anna")
            token = await entry.form_token(http, f"/remote/{slug}/open")
            async with http.post(f"/remote/{slug}/open", data={"csrf_token": token}) as r:
                assert r.status == 200
                landing = await r.text()
            yield _Remote(http, f"https://{slug}.{PORTAL}:{entry.gateway.port}", client, landing)
    finally:
        await client.stop()
        await runner.cleanup()


async def test_page_download_upload_and_websocket_through_the_other_node(
    nodes: list[GatewayHarness], tmp_path: Path
) -> None:
    a, b = nodes
    async with _remote(a, b, tmp_path) as remote:
        http, device_url = remote.http, remote.device_url
        assert "CCU WebUI" in remote.landing  # landed on a, served by b's tunnel
        async with http.get(f"{device_url}/download?size={TEN_MIB}&length=1") as r:
            assert r.status == 200
            digest, size = hashlib.sha256(), 0
            async for chunk in r.content.iter_chunked(65536):
                digest.update(chunk)
                size += len(chunk)
        assert size == TEN_MIB
        assert digest.hexdigest() == pattern_sha256(TEN_MIB)
        body = bytes(range(256)) * 4096
        async with http.post(f"{device_url}/upload", data=body) as r:
            assert await r.json() == {
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            }
        async with http.ws_connect(f"{device_url}/ws", origin=device_url) as ws:
            await ws.send_str("hallo")
            assert (await ws.receive(timeout=5)).data == "echo: hallo"
            await ws.send_bytes(b"\x00\x01" * 5000)
            assert (await ws.receive(timeout=5)).data == b"\x00\x01" * 5000
    # the audit on both nodes: a counts the browser's session, b the relayed traffic
    store = a.gateway.store

    async def counted() -> RemoteSession:
        await a.gateway.runner.app[REMOTE_GATE].ledger.flush()
        [record] = await store.repo(RemoteAccessRepository).list_sessions()
        return record

    async with asyncio.timeout(5):  # the WebSocket is counted once a has seen it end
        while (record := await counted()).requests < 4:  # noqa: ASYNC110 - no event
            await asyncio.sleep(0.05)
    assert record.bytes_from_device > TEN_MIB

    async def relayed() -> list[RelayAudit]:
        return await store.repo(RelayAuditRepository).for_session(record.id)

    # b adds the relayed traffic to its one row per node pair in batches (every half second):
    # wait until the batch with the download has landed
    async with asyncio.timeout(5):
        while not (rows := await relayed()) or rows[0].bytes_from_device <= TEN_MIB:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    [row] = rows
    assert (row.entry_node, row.tunnel_node) == ("a", "b")
    assert row.bytes_from_device > TEN_MIB


async def test_a_stream_the_device_refuses_is_unreachable_through_the_other_node(
    nodes: list[GatewayHarness], tmp_path: Path
) -> None:
    """The holder opens the stream pipelined (the request right behind OPEN) and answers OK
    only once the device took it: an OPEN_FAIL is still the relay's ERR unreachable."""
    a, b = nodes
    async with _remote(a, b, tmp_path, refuse=True) as remote:
        for _ in range(2):  # the refused exchange closed its connection: the next opens one
            async with remote.http.get(f"{remote.device_url}/") as r:
                assert r.status == 502
        assert not remote.client.task.done()  # the tunnel lives on


async def test_the_relay_listener_wants_a_fleet_certificate(
    nodes: list[GatewayHarness], tmp_path: Path
) -> None:
    a, b = nodes
    host, _sep, port = fleet_of(b).internal_url.rpartition(":")
    # a device certificate (from the device CA) is not a fleet certificate
    await a.create_account("anna")
    device = TestDevice(tmp_path / "device", a.gateway.tls.ca_cert or Path())
    await enrol_device(a, device, "anna")
    ctx = ssl.create_default_context(cafile=str(tmp_path / "gateway" / "tls" / "fleet-ca.pem"))
    ctx.load_cert_chain(device.folder / "device.pem", device.folder / "device.key")
    try:
        reader, writer = await asyncio.open_connection(
            host, int(port), ssl=ctx, server_hostname=FLEET_PEER_NAME
        )
    except (ssl.SSLError, ConnectionError):
        answer = b""  # refused in the handshake (TLS 1.2)
    else:
        try:  # TLS 1.3: the client finishes first, the server's refusal follows
            writer.write(b'{"device": 1, "target": "webui", "session": 1, "from": "x"}\n')
            answer = await reader.readline()
        except (ssl.SSLError, ConnectionError):
            answer = b""
        finally:
            writer.close()
            with contextlib.suppress(ssl.SSLError, ConnectionError):
                await writer.wait_closed()
    assert answer == b""


async def test_a_draining_node_lets_a_running_download_finish_first(
    nodes: list[GatewayHarness], tmp_path: Path
) -> None:
    a, _b = nodes
    async with _remote(a, a, tmp_path) as remote:
        client = remote.client
        async with remote.http.get(f"{remote.device_url}/download?size={TEN_MIB}&length=1") as r:
            digest = hashlib.sha256(await r.content.readexactly(65536))
            drained = asyncio.create_task(a.gateway.drain())
            # the rest is not read yet (the tunnel's credit holds the device back) when
            # the drain gets to the devices: it must wait for the stream
            await a.gateway.runner.app[DRAIN].sending_away.wait()
            async for chunk in r.content.iter_chunked(65536):
                digest.update(chunk)
                assert not client.task.done()  # the tunnel stays while the stream runs
        assert digest.hexdigest() == pattern_sha256(TEN_MIB)
        assert await drained == 1
        await client.closed()
        assert client.session.refusal is not None
        assert client.session.refusal.reason == "overloaded"
        assert any(c.get("type") == "reconnect" for c in client.controls)


async def test_a_pipelined_request_follows_a_tunnel_that_moved_and_a_refusal_is_a_denial(
    nodes: list[GatewayHarness], tmp_path: Path
) -> None:
    a, b = nodes
    async with _remote(a, b, tmp_path):
        relay = a.gateway.runner.app[REMOTE_GATE].relay
        assert relay is not None
        [record] = await a.gateway.store.repo(RemoteAccessRepository).list_sessions()
        device_id = record.device_id
        assert device_id is not None
        asked: list[str] = []

        async def relocate() -> str | None:
            asked.append("again")
            return fleet_of(b).internal_url

        # sent to a node that does not hold the tunnel (as if it had moved): the request
        # went out behind the head; after "ERR offline" it is sent again to b, the holder
        stream = await relay.open(
            fleet_of(a).internal_url,
            device_id=device_id,
            target="webui",
            session_id=record.id,
            relocate=relocate,
        )
        assert isinstance(stream, RelayStream)
        await stream.write(b"GET / HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := await stream.read():
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        assert b"CCU WebUI" in answer
        assert asked == ["again"]
        await stream.close()
        # nobody holds it where the directory points: the refusal shows as a denial
        lost = await relay.open(
            fleet_of(a).internal_url, device_id=device_id, target="webui", session_id=record.id
        )
        assert isinstance(lost, RelayStream)
        await lost.write(b"GET / HTTP/1.1\r\nHost: hub\r\n\r\n")
        with pytest.raises(RelayDeniedError) as denied:
            await lost.read()
        assert denied.value.denial is Denial.OFFLINE
        lost.reset("test")
