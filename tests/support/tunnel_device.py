"""A test device for the gateway: key, CSR, enrolment over HTTPS, client TLS context.

Uses ``cryptography`` directly (the product's device side lives in ``tunnel/``). The
device's private key never leaves this object, as on a real device.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.device_webui import LoopbackResolver, browser
from tests.support.gateway import Portal
from tunnel.device_end import DeviceSession
from tunnel.frames import PROTOCOL_VERSIONS, Hello
from tunnel.session import DisconnectReason, StreamHandler
from tunnel.streams import Stream
from tunnel.ws import AIOHTTP_MAX_MSG_SIZE, WebSocketTransport

__all__ = [
    "TestDevice",
    "TunnelClient",
    "enrol_device",
    "make_csr",
    "open_tunnel",
    "self_made_client_cert",
    "splice_to",
]


def make_csr(key: ec.EllipticCurvePrivateKey, common_name: str = "my-ccu") -> str:
    """A PEM CSR for ``key``."""
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def self_made_client_cert(
    key: ec.EllipticCurvePrivateKey,
    issuer_key: ec.EllipticCurvePrivateKey,
    issuer_name: x509.Name,
    *,
    not_before: datetime,
    not_after: datetime,
    serial: int | None = None,
) -> x509.Certificate:
    """A client certificate for ``key`` signed by ``issuer_key`` (forged or expired ones)."""
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "forged")]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


@dataclass
class TestDevice:
    """A device that enrols against a gateway and then holds a client certificate."""

    folder: Path
    server_ca: Path
    kind: str = "ccu"
    name: str = "Meine CCU"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    certificate_pem: str | None = None
    slug: str | None = None

    __test__ = False  # not a pytest class

    def http(self, base_url: str) -> aiohttp.ClientSession:
        """An HTTPS client without a client certificate (for enrolment)."""
        ctx = ssl.create_default_context(cafile=str(self.server_ca))
        return aiohttp.ClientSession(
            base_url=base_url,
            connector=aiohttp.TCPConnector(ssl=ctx, resolver=LoopbackResolver()),
        )

    async def request_enrolment(self, http: aiohttp.ClientSession) -> dict[str, object]:
        """POST the CSR; returns the JSON answer (pairing code, poll token …)."""
        body = {"csr": make_csr(self.key), "kind": self.kind, "name": self.name}
        async with http.post("/api/v1/enrol", json=body) as resp:
            assert resp.status == 201, await resp.text()
            answer: dict[str, object] = await resp.json()
        return answer

    async def collect(self, http: aiohttp.ClientSession, poll_url: str) -> dict[str, object]:
        """Poll once; on success keep the certificate and write key and cert files."""
        async with http.get(poll_url) as resp:
            answer: dict[str, object] = await resp.json()
            answer["http_status"] = resp.status
        if answer.get("status") == "issued":
            cert = answer["certificate"]
            device = answer["device"]
            assert isinstance(cert, str)
            assert isinstance(device, dict)
            self.certificate_pem = cert
            self.slug = str(device["slug"])
            self.write_files(cert)
        return answer

    def write_files(
        self, certificate_pem: str, key: ec.EllipticCurvePrivateKey | None = None
    ) -> None:
        """Store key (0600) and certificate as a device does."""
        self.folder.mkdir(parents=True, exist_ok=True)
        key_path = self.folder / "device.key"
        key_path.touch(mode=0o600)
        key_path.write_bytes(
            (key or self.key).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (self.folder / "device.pem").write_text(certificate_pem)

    def client_ssl(self) -> ssl.SSLContext:
        """A TLS context that trusts the gateway and presents the device certificate."""
        ctx = ssl.create_default_context(cafile=str(self.server_ca))
        ctx.load_cert_chain(self.folder / "device.pem", self.folder / "device.key")
        return ctx

    @staticmethod
    def validity(now: datetime, days: int) -> tuple[datetime, datetime]:
        """A validity period from an hour before ``now``."""
        return now - timedelta(hours=1), now + timedelta(days=days)


async def splice_to(stream: Stream, host: str, port: int) -> None:
    """Serve a stream by connecting it to a local TCP service (the device's web UI)."""
    reader, writer = await asyncio.open_connection(host, port)
    stream.accept()

    async def upstream() -> None:
        while chunk := await stream.read(65536):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    async def downstream() -> None:
        while chunk := await reader.read(65536):
            await stream.write(chunk)
        await stream.write_eof()

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(upstream())
            group.create_task(downstream())
    finally:
        writer.close()


@dataclass
class TunnelClient:
    """A running device session over a real WebSocket to ``/tunnel/v1``."""

    http: aiohttp.ClientSession
    session: DeviceSession
    task: asyncio.Task[DisconnectReason]
    controls: list[dict[str, Any]]

    async def closed(self, timeout: float = 5.0) -> DisconnectReason:
        """Wait (bounded) until the gateway or the network ended the session."""
        async with asyncio.timeout(timeout):
            return await self.task

    async def stop(self) -> None:
        if not self.task.done():
            await self.session.close()
            await self.task
        await self.http.close()


async def open_tunnel(
    url: str,
    ctx: ssl.SSLContext,
    *,
    on_open: StreamHandler | None = None,
    kind: str = "ccu",
) -> TunnelClient:
    """Connect, say HELLO and run the session in a task; :class:`RefusedError` on REFUSE."""
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=ctx, resolver=LoopbackResolver())
    )
    controls: list[dict[str, Any]] = []

    async def on_control(body: dict[str, Any]) -> None:
        controls.append(body)

    ws: aiohttp.ClientWebSocketResponse | None = None
    try:
        ws = await http.ws_connect(
            url.rstrip("/") + "/tunnel/v1", max_msg_size=AIOHTTP_MAX_MSG_SIZE
        )
        session = DeviceSession(WebSocketTransport(ws), on_open=on_open, on_control=on_control)
        await session.handshake(
            Hello(
                versions=PROTOCOL_VERSIONS,
                capabilities=("telemetry", "streams"),
                software="test-device 1.0",
                device_kind=kind,
            )
        )
    except BaseException:
        if ws is not None:
            await ws.close()
        await http.close()
        raise
    task = asyncio.create_task(session.run(), name="test device session")
    return TunnelClient(http, session, task, controls)


async def enrol_device(gw: Portal, device: TestDevice, owner_login: str) -> str:
    """Enrol ``device`` through the real HTTP flow for ``owner_login``; its slug."""
    async with device.http(gw.url) as http:
        answer = await device.request_enrolment(http)
        async with browser(gw.url, gw.ssl_context) as browser_http:
            await gw.login(browser_http, owner_login)
            token = await gw.form_token(browser_http, "/portal/devices/pair")
            async with browser_http.post(
                "/portal/devices/pair",
                data={"csrf_token": token, "code": str(answer["pairing_code"])},
            ) as resp:
                assert resp.status == 200, await resp.text()
        issued = await device.collect(http, str(answer["poll_url"]))
    assert issued["status"] == "issued", issued
    assert device.slug is not None
    return device.slug
