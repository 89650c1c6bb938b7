"""Two nodes with ``[http] proxy_protocol`` behind HAProxy with ``send-proxy-v2`` (issue 20).

Real ``cloud-gateway serve`` processes and Debian's HAProxy on loopback: HAProxy's health
checks (which carry the header too) keep the nodes in rotation; a device enrols and opens its
tunnel with its client certificate through HAProxy; a second client's enrolment is recorded
with the address from the header (127.0.0.2, while the TCP peer is HAProxy on 127.0.0.1); a
direct connection to a node without the header is closed.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric import ec

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.store import Store
from cloud_gateway.tunnels.schema import enrol_attempts
from simulator.cluster import LoopbackResolver, loopback_cluster
from tests.support.databases import fresh_database_url
from tests.support.gateway import PortalAt
from tests.support.tunnel_device import TestDevice, enrol_device, make_csr
from tunnel.backoff import Backoff, BackoffPolicy
from tunnel.clock import SystemClock
from tunnel.connector import TunnelConnector
from tunnel.frames import PROTOCOL_VERSIONS, Hello

pytestmark = [pytest.mark.postgresql, pytest.mark.slow, pytest.mark.timeout(120)]

PASSWORD = "Sonnig!2026"


async def test_nodes_behind_haproxy_with_proxy_protocol(tmp_path: Path) -> None:
    async with fresh_database_url("postgresql", tmp_path) as url:
        store = await Store.open(url)
        try:
            await store.repo(AccountRepository).create(
                username="anna",
                email="anna@example.org",
                password_hash=PasswordHasher().hash(PASSWORD),
                created_at=SystemClock().now(),
            )
            async with loopback_cluster(tmp_path / "state", url, 2, proxy_protocol=True) as fleet:
                ctx = ssl.create_default_context(cafile=str(fleet.ca_file))
                loopback = aiohttp.TCPConnector(ssl=ctx, resolver=LoopbackResolver())
                async with aiohttp.ClientSession(connector=loopback) as http:
                    # HAProxy takes a node in after a passed check: wait for the first one
                    async with asyncio.timeout(30):
                        while True:
                            try:
                                async with http.get(fleet.url + "healthz") as resp:
                                    if resp.status == 200:
                                        break
                            except aiohttp.ClientError:
                                pass
                            await asyncio.sleep(0.2)  # polling HAProxy's state, not a sync
                    # a direct connection without the header: closed by the node
                    node = next(iter(fleet.nodes.values()))
                    with pytest.raises(aiohttp.ClientError):
                        await http.get(node.url + "healthz")

                device = TestDevice(tmp_path / "hub", fleet.ca_file)
                await enrol_device(PortalAt(fleet.url, ctx), device, "anna")
                connector = TunnelConnector(
                    url=f"wss://127.0.0.1:{fleet.port}/tunnel/v1",
                    ssl_context=device.client_ssl(),
                    hello=Hello(
                        versions=PROTOCOL_VERSIONS,
                        capabilities=("telemetry",),
                        software="proxy-protocol-e2e",
                        device_kind="ccu",
                    ),
                    clock=SystemClock(),
                    backoff=Backoff(BackoffPolicy(base=0.5, cap=2.0, reconnect_window=2.0)),
                    name="hub",
                )
                task = asyncio.create_task(connector.run())
                try:
                    async with asyncio.timeout(30):
                        await connector.wait_connected()  # the client certificate was seen
                finally:
                    await connector.stop()
                    await task
                # a client from 127.0.0.2: HAProxy's header names it, the node's TCP peer
                # is HAProxy on 127.0.0.1
                other = aiohttp.TCPConnector(
                    local_addr=("127.0.0.2", 0), ssl=ctx, resolver=LoopbackResolver()
                )
                async with aiohttp.ClientSession(connector=other) as http:
                    csr = make_csr(ec.generate_private_key(ec.SECP256R1()))
                    body = {"csr": csr, "kind": "ccu", "name": "Keller"}
                    async with http.post(fleet.url + "api/v1/enrol", json=body) as resp:
                        assert resp.status == 201, await resp.text()
            async with store.engine.connect() as conn:
                rows = await conn.execute(sa.select(enrol_attempts.c.source_address).distinct())
                sources = sorted(rows.scalars().all())
            assert sources == ["127.0.0.1", "127.0.0.2"]
        finally:
            await store.close()
