"""The gateway serves its start page over real TLS with a certificate it made itself."""

from __future__ import annotations

import asyncio
import shutil
import ssl
from pathlib import Path

import aiohttp
import pytest

from cloud_gateway.config import DatabaseConfig, GatewayConfig, HttpConfig, PlantsConfig
from cloud_gateway.http.keys import TUNNELS
from cloud_gateway.server import start_gateway
from tests.support.gateway import gateway_harness
from tests.support.tls_client import closed_after_silence, dropped_before_hello
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tunnel.clock import ManualClock, SystemClock
from tunnel.session import DisconnectReason

_DEMO_KEY = PlantsConfig(demo_activation_key=True)
"""The public demo manufacturer key (no real key in tests)."""


async def test_start_page_over_https_with_generated_ca(tmp_path: Path, db_url: str) -> None:
    config = GatewayConfig(
        state_dir=tmp_path / "gw",
        http=HttpConfig(port=0),
        database=DatabaseConfig(url=db_url),
        plants=PlantsConfig(demo_activation_key=True),  # the public demo key
    )
    gateway = await start_gateway(config, SystemClock())
    try:
        assert gateway.tls.ca_cert is not None
        ctx = ssl.create_default_context(cafile=str(gateway.tls.ca_cert))
        async with aiohttp.ClientSession() as http:
            async with http.get(gateway.url, ssl=ctx) as resp:
                body = await resp.text()
                assert resp.status == 200
                assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
                assert "Fernzugriff" in body
            async with http.get(gateway.url + "?lang=en", ssl=ctx) as resp:
                assert "Remote access" in await resp.text()
            async with http.get(gateway.url + "healthz", ssl=ctx) as resp:
                assert (await resp.json())["status"] == "ok"
    finally:
        await gateway.stop()
    key_mode = (tmp_path / "gw" / "tls" / "server.key").stat().st_mode & 0o777
    assert key_mode == 0o600


async def test_certificate_is_made_once_and_reused(tmp_path: Path) -> None:
    config = GatewayConfig(state_dir=tmp_path / "gw", http=HttpConfig(port=0), plants=_DEMO_KEY)
    first = await start_gateway(config, ManualClock())
    await first.stop()
    pem = first.tls.cert.read_bytes()
    second = await start_gateway(config, ManualClock())
    await second.stop()
    assert second.tls.cert.read_bytes() == pem


async def test_untrusted_client_cannot_verify_gateway(tmp_path: Path) -> None:
    config = GatewayConfig(state_dir=tmp_path / "gw", http=HttpConfig(port=0), plants=_DEMO_KEY)
    gateway = await start_gateway(config, SystemClock())
    try:
        async with aiohttp.ClientSession() as http:
            try:
                await http.get(gateway.url, ssl=ssl.create_default_context())
            except aiohttp.ClientConnectorCertificateError:
                pass
            else:
                raise AssertionError("a client without the CA must not trust the gateway")
    finally:
        await gateway.stop()


async def test_silent_clients_are_dropped_after_the_tls_timeouts(tmp_path: Path) -> None:
    """The gateway closes after ``Connection: close``; a client that keeps the TCP connection
    and never sends its close_notify loses it after ``[http] tls_close_timeout_s``, not after
    asyncio's default 30 s."""
    config = GatewayConfig(
        state_dir=tmp_path / "gw",
        http=HttpConfig(port=0, tls_close_timeout_s=0.5, tls_handshake_timeout_s=0.5),
        plants=_DEMO_KEY,
    )
    gateway = await start_gateway(config, ManualClock())
    try:
        assert gateway.tls.ca_cert is not None
        ctx = ssl.create_default_context(cafile=str(gateway.tls.ca_cert))
        assert await closed_after_silence(gateway.port, ctx) < 0.5 + 4.5
        # nor does one that connects and never sends its ClientHello keep it (asyncio: 60 s)
        assert await dropped_before_hello(gateway.port) < 0.5 + 4.5
    finally:
        await gateway.stop()
    assert HttpConfig().tls_close_timeout_s <= 5.0
    assert HttpConfig().tls_handshake_timeout_s <= 15.0  # a device gives up after 15 s
    with pytest.raises(ValueError, match="TLS timeouts"):
        HttpConfig(tls_close_timeout_s=0)


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs iproute2's ss")
async def test_the_listener_queues_as_many_connections_as_configured(tmp_path: Path) -> None:
    """``[http] listen_backlog`` reaches the listening socket (``ss`` shows a listener's
    backlog as its Send-Q); aiohttp's own 128 overflowed in a reconnect storm."""
    config = GatewayConfig(
        state_dir=tmp_path / "gw", http=HttpConfig(port=0, listen_backlog=100), plants=_DEMO_KEY
    )
    gateway = await start_gateway(config, ManualClock())
    try:
        ss = await asyncio.create_subprocess_exec(
            "ss", "-ltnH", f"sport = :{gateway.port}", stdout=asyncio.subprocess.PIPE
        )
        stdout, _ = await ss.communicate()
        out = stdout.decode().split()
        assert out[0] == "LISTEN"
        assert int(out[2]) == 100  # Send-Q of a listener: its backlog
    finally:
        await gateway.stop()
    assert HttpConfig().listen_backlog == 1024
    with pytest.raises(ValueError, match="listen_backlog"):
        HttpConfig(listen_backlog=0)


async def test_a_stopping_gateway_closes_its_tunnels_before_waiting_for_handlers(
    tmp_path: Path,
) -> None:
    """aiohttp's stop runs ``on_shutdown``, then waits up to 60 s for its handlers, and only
    then the cleanup: a tunnel's WebSocket handler lives as long as the tunnel, so the tunnels
    must be closed in the shutdown phase (a loaded stop sat out the 60 s otherwise)."""
    clock = ManualClock()
    async with gateway_harness(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}", clock) as gw:
        await gw.create_account("anna")
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        await enrol_device(gw, device, "anna")
        client = await open_tunnel(gw.url, device.client_ssl())
        try:
            await gw.gateway.runner.shutdown()  # the shutdown phase alone: on_shutdown
            assert await client.closed(timeout=5.0) is DisconnectReason.CLEAN
            assert gw.gateway.runner.app[TUNNELS].live() == []
        finally:
            await client.stop()
