"""``/tunnel/v1`` over real TLS with client certificates on loopback.

Forged, expired, revoked and missing certificates are refused; a newer tunnel replaces
the older; losing entitlement (operator flag, revocation, a window's end on the injected
clock) closes an open tunnel with CONTROL + REFUSE within 5 s.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.api import Decision, DeviceEntitlementPolicy
from cloud_gateway.http.keys import TUNNELS
from cloud_gateway.tunnels.registry import TunnelRegistry
from cloud_gateway.tunnels.repository_certificates import DeviceCertificateRepository
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.tunnel_device import (
    TestDevice,
    enrol_device,
    open_tunnel,
    self_made_client_cert,
)
from tunnel.clock import ManualClock
from tunnel.errors import RefusedError
from tunnel.frames import RefusalReason
from tunnel.session import DisconnectReason
from tunnel.streams import Stream


@dataclass
class Env:
    gw: GatewayHarness
    device: TestDevice
    slug: str
    clock: ManualClock

    @property
    def registry(self) -> TunnelRegistry:
        return self.gw.gateway.runner.app[TUNNELS]

    async def device_row(self) -> Device:
        return await self.gw.gateway.store.repo(DeviceRepository).get_by_slug(self.slug)


@asynccontextmanager
async def enrolled(
    tmp_path: Path, clock: ManualClock, policy: DeviceEntitlementPolicy | None = None
) -> AsyncIterator[Env]:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock, entitlements=policy) as gw:
        await gw.create_account("anna")
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        slug = await enrol_device(gw, device, "anna")
        yield Env(gw, device, slug, clock)


async def _echo(stream: Stream) -> None:
    while chunk := await stream.read(65536):
        await stream.write(chunk)


async def test_enrolled_device_connects_and_the_gateway_opens_streams(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with enrolled(tmp_path, clock) as env:
        client = await open_tunnel(env.gw.url, env.device.client_ssl(), on_open=_echo)
        try:
            device = await env.device_row()
            live = env.registry.get(device.id)
            assert live is not None
            assert live.hello.software == "test-device 1.0"
            assert live.protocol_version == 1
            assert live.peer == "127.0.0.1"
            assert client.session.welcome is not None  # the node's reconnect window, sent along
            assert client.session.welcome.reconnect_window == 120.0
            stream = await live.session.open_stream("echo")
            await stream.write(b"hallo tunnel")
            await stream.write_eof()
            assert await stream.read() == b"hallo tunnel"
        finally:
            await client.stop()
        async with asyncio.timeout(5):
            await live.session.wait_closed()  # the gateway end notices the device left


async def test_a_newer_tunnel_replaces_the_older(tmp_path: Path, clock: ManualClock) -> None:
    async with enrolled(tmp_path, clock) as env:
        first = await open_tunnel(env.gw.url, env.device.client_ssl())
        second = await open_tunnel(env.gw.url, env.device.client_ssl())
        try:
            assert await first.closed() is DisconnectReason.CLEAN
            assert "replaced" in [c["type"] for c in first.controls]
            live = env.registry.get((await env.device_row()).id)
            assert live is not None
            assert live.session.running
            assert not second.task.done()
        finally:
            await first.stop()
            await second.stop()


async def _refused(url: str, ctx: ssl.SSLContext) -> RefusedError:
    with pytest.raises(RefusedError) as caught:
        await open_tunnel(url, ctx)
    return caught.value


async def test_missing_unknown_and_app_expired_certificates_are_refused(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with enrolled(tmp_path, clock) as env:
        plain = ssl.create_default_context(cafile=str(env.device.server_ca))
        refused = await _refused(env.gw.url, plain)
        assert refused.reason == RefusalReason.NOT_ENROLLED
        assert "certificate required" in refused.detail

        # issued by the device CA, but never recorded: not enrolled
        ca = env.gw.gateway.device_ca
        other = TestDevice(tmp_path / "other", env.device.server_ca)
        start, end = TestDevice.validity(datetime.now().astimezone(), 30)
        cert = self_made_client_cert(
            other.key, ca.key, ca.cert.subject, not_before=start, not_after=end
        )
        other.write_files(cert.public_bytes(serialization.Encoding.PEM).decode())
        refused = await _refused(env.gw.url, other.client_ssl())
        assert refused.reason == RefusalReason.NOT_ENROLLED

        # the injected clock says the enrolled certificate has expired
        clock.advance(timedelta(days=1826))
        refused = await _refused(env.gw.url, env.device.client_ssl())
        assert refused.reason == RefusalReason.NOT_ENROLLED
        assert "expired" in refused.detail
        assert env.registry.live() == []


async def test_forged_and_really_expired_certificates_fail_tls(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with enrolled(tmp_path, clock) as env:
        now = datetime.now().astimezone()
        rogue_key = ec.generate_private_key(ec.SECP256R1())
        forged = TestDevice(tmp_path / "forged", env.device.server_ca)
        cert = self_made_client_cert(
            forged.key,
            rogue_key,
            env.gw.gateway.device_ca.cert.subject,  # same name, other key
            not_before=now - timedelta(hours=1),
            not_after=now + timedelta(days=1),
        )
        forged.write_files(cert.public_bytes(serialization.Encoding.PEM).decode())
        with pytest.raises((aiohttp.ClientError, ConnectionError)):
            await open_tunnel(env.gw.url, forged.client_ssl())

        ca = env.gw.gateway.device_ca
        stale = TestDevice(tmp_path / "stale", env.device.server_ca)
        cert = self_made_client_cert(
            stale.key,
            ca.key,
            ca.cert.subject,
            not_before=now - timedelta(days=10),
            not_after=now - timedelta(days=1),
        )
        stale.write_files(cert.public_bytes(serialization.Encoding.PEM).decode())
        with pytest.raises((aiohttp.ClientError, ConnectionError)):
            await open_tunnel(env.gw.url, stale.client_ssl())
        assert env.registry.live() == []


async def test_revocation_closes_the_open_tunnel_and_refuses_reconnects(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with enrolled(tmp_path, clock) as env:
        client = await open_tunnel(env.gw.url, env.device.client_ssl())
        try:
            device = await env.device_row()
            await env.gw.gateway.store.repo(DeviceCertificateRepository).revoke_device(
                device.id, now=clock.now()
            )
            await env.registry.revoked(device.id)
            assert await client.closed(timeout=5.0) is DisconnectReason.REFUSED
            assert client.session.refusal is not None
            assert client.session.refusal.reason == RefusalReason.REVOKED
            assert client.controls[-1]["reason"] == "revoked"
        finally:
            await client.stop()
        refused = await _refused(env.gw.url, env.device.client_ssl())
        assert refused.reason == RefusalReason.REVOKED


class RevokedWhileAdmitting:
    """Entitled, but the first decision revokes the device's certificate on the way: the
    revocation lands after the certificate check and before the tunnel is registered."""

    def __init__(self) -> None:
        self.env: Env | None = None

    async def decide(self, device: Device, at: datetime) -> Decision:
        env, self.env = self.env, None
        if env is not None:
            await env.gw.gateway.store.repo(DeviceCertificateRepository).revoke_device(
                device.id, now=at
            )
            await env.registry.revoked(device.id)  # no tunnel registered yet: finds none
        return Decision(entitled=True)


async def test_a_revocation_during_the_handshake_still_closes_the_tunnel(
    tmp_path: Path, clock: ManualClock
) -> None:
    policy = RevokedWhileAdmitting()
    async with enrolled(tmp_path, clock, policy) as env:
        policy.env = env
        client = await open_tunnel(env.gw.url, env.device.client_ssl())
        try:
            assert await client.closed(timeout=5.0) is DisconnectReason.REFUSED
            assert client.session.refusal is not None
            assert client.session.refusal.reason == RefusalReason.REVOKED
        finally:
            await client.stop()
        assert env.registry.get((await env.device_row()).id) is None


async def test_operator_flag_closes_the_tunnel_within_five_seconds(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with enrolled(tmp_path, clock) as env:
        client = await open_tunnel(env.gw.url, env.device.client_ssl())
        try:
            await env.gw.gateway.store.repo(DeviceRepository).set_disabled(env.slug, disabled=True)
            await env.registry.entitlement_changed((await env.device_row()).id)
            assert await client.closed(timeout=5.0) is DisconnectReason.REFUSED
            assert client.session.refusal is not None
            assert client.session.refusal.reason == RefusalReason.FORBIDDEN
            assert client.controls[-1] == {
                "type": "entitlement",
                "entitled": False,
                "reason": "forbidden",
                "retry_after": 3600.0,
                "detail": "entitlement ended",
            }
        finally:
            await client.stop()
        refused = await _refused(env.gw.url, env.device.client_ssl())
        assert refused.reason == RefusalReason.FORBIDDEN


class WindowPolicy:
    """Entitled until a fixed instant (a stand-in for the entitlement rules)."""

    def __init__(self, end: datetime) -> None:
        self.end = end

    async def decide(self, device: Device, at: datetime) -> Decision:
        if at < self.end:
            return Decision(entitled=True, until=self.end)
        return Decision(entitled=False, reason=RefusalReason.EXPIRED, retry_after_s=86400.0)


async def test_tunnel_is_closed_when_the_entitlement_window_ends(
    tmp_path: Path, clock: ManualClock
) -> None:
    policy = WindowPolicy(clock.now() + timedelta(hours=2))
    async with enrolled(tmp_path, clock, policy) as env:
        client = await open_tunnel(env.gw.url, env.device.client_ssl())
        try:
            clock.advance(timedelta(hours=1))
            await asyncio.sleep(0)
            assert not client.task.done()
            clock.advance(timedelta(hours=1))
            assert await client.closed(timeout=5.0) is DisconnectReason.REFUSED
            assert client.session.refusal is not None
            assert client.session.refusal.reason == RefusalReason.EXPIRED
        finally:
            await client.stop()
