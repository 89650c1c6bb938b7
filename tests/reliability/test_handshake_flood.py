"""Security review item 1: the handshake gate can no longer be filled without a certificate.

100 TLS connections to ``/tunnel/v1`` without a client certificate upgrade to a WebSocket and
then stay silent (before the fix they held the 64 places of the gateway's HandshakeGate until
the 10 s HELLO timeout, and an enrolled device got REFUSE(overloaded)). Now none takes a
place at the gate: a few wait in a budget of their own for at most 2 s, the rest are closed at
once; an enrolled device connecting in the middle of the flood is admitted.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import aiohttp
import pytest

from cloud_gateway.config import HttpConfig
from cloud_gateway.http.keys import TUNNELS
from tests.reliability.report import pick, record
from tests.support.device_webui import LoopbackResolver
from tests.support.gateway import gateway_harness
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tunnel.clock import ManualClock

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SILENT = pick(100, 300)
"""Silent connections without a certificate."""
PACE = HttpConfig().tls_handshakes_per_source
"""Connections opened at once: the listener's TLS budget gives one source address this many
handshake places (ADR 0032; an unpaced flood from one address is closed before TLS beyond
them, tests/cloud_gateway/test_tls_budget.py); this test is about what comes after TLS."""
ADMIT_WITHIN = 5.0
"""Bound for the enrolled device to get in during the flood."""


async def test_silent_connections_without_certificate_leave_the_gate_free(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw:
        await gw.create_account("anna")
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        await enrol_device(gw, device, "anna")
        registry = gw.gateway.runner.app[TUNNELS]
        anonymous = ssl.create_default_context(cafile=str(gw.gateway.tls.ca_cert))
        url = gw.url.rstrip("/") + "/tunnel/v1"
        connector = aiohttp.TCPConnector(ssl=anonymous, resolver=LoopbackResolver(), limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            silent = []
            for start in range(0, SILENT, PACE):  # paced: one address, PACE TLS places
                batch = min(PACE, SILENT - start)
                silent += await asyncio.gather(*(http.ws_connect(url) for _ in range(batch)))
            assert len(silent) == SILENT  # every one upgraded
            held = registry.handshakes.in_progress + registry.handshakes.waiting
            own = registry.guard.unverified_in_progress
            started = time.monotonic()
            async with asyncio.timeout(ADMIT_WITHIN):
                client = await open_tunnel(gw.url, device.client_ssl())
            admitted_after = time.monotonic() - started
            await client.stop()
            # the silent ones end without ever saying anything: closed by the gateway
            async with asyncio.timeout(10):
                closes = await asyncio.gather(*(ws.receive() for ws in silent))
            closed = sum(1 for message in closes if message.type.name in {"CLOSE", "CLOSED"})
            for ws in silent:
                await ws.close()
        turned_away = registry.guard.turned_away
        figure = (
            f"{SILENT} silent upgraded connections without certificate: {held} gate places "
            f"held, {own} in their own budget, {turned_away} closed at once, {closed} closed "
            f"in all; enrolled device admitted after {admitted_after:.2f} s"
        )
        passed = held == 0 and closed == SILENT and admitted_after < ADMIT_WITHIN
        record("handshake_gate_flood", figure, passed=passed)
        assert held == 0
        assert own <= registry.guard.limits.unverified
        assert closed == SILENT
