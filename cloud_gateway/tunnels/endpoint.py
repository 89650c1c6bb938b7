"""``/tunnel/v1``: the gateway end of device tunnels on the HTTPS port.

The TLS layer has already verified the client certificate's chain against the device CA
(the listener asks every client for one, ``CERT_OPTIONAL``). Here the device is told
apart by the certificate's serial number: unknown serials are refused ``not_enrolled``,
revoked ones ``revoked``; then the entitlement policy decides. Every refusal is a REFUSE
frame after the device's HELLO, so the device learns why and when to come back.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime

from aiohttp import WSCloseCode, web
from cryptography import x509
from cryptography.exceptions import InvalidSignature

from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.entitlements.api import Decision
from cloud_gateway.http.keys import CLOCK, CONFIG, DEVICE_CA, ENTITLEMENT_POLICY, STORE, TUNNELS
from cloud_gateway.tunnels.device_ca import serial_hex
from cloud_gateway.tunnels.registry import LiveTunnel, TunnelRegistry
from cloud_gateway.tunnels.repository_certificates import DeviceCertificateRepository
from tunnel.errors import ProtocolError, RefusedError, SessionClosedError
from tunnel.frames import Hello, RefusalReason, Refuse
from tunnel.gateway_end import GatewaySession, choose_version
from tunnel.ws import AIOHTTP_MAX_MSG_SIZE, PushWebSocketTransport

__all__ = ["peer_certificate", "tunnel_v1"]

_LOGGER = logging.getLogger(__name__)
_CAPABILITIES = ("telemetry", "streams")
_AGENT_TELEMETRY_CONCURRENCY = 8
"""TELEMETRY frames of one inverter agent in progress at once: its default window
(``max_in_flight``), so a whole window can share one commit."""


def peer_certificate(request: web.Request) -> x509.Certificate | None:
    """The client certificate the TLS layer verified for this connection, if any."""
    transport = request.transport
    ssl_object = None if transport is None else transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return None if der is None else x509.load_der_x509_certificate(der)


def _from_device_ca(app: web.Application, cert: x509.Certificate) -> bool:
    """Whether the device CA issued ``cert`` (its signature checks out)."""
    try:
        cert.verify_directly_issued_by(app[DEVICE_CA].cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _unverified_refusal(cert: x509.Certificate | None) -> Refuse:
    """Why a connection without a verified device certificate is refused."""
    detail = "client certificate required" if cert is None else "certificate not from device CA"
    return Refuse(RefusalReason.NOT_ENROLLED, 3600.0, detail)


async def _admit(
    app: web.Application, cert: x509.Certificate | None, now: datetime
) -> tuple[Device, str, Decision] | Refuse:
    """Who the certificate belongs to and whether that device may connect now."""
    if cert is None or not _from_device_ca(app, cert):
        return _unverified_refusal(cert)
    async with app[STORE].reading():  # the checks' reads: one pooled connection (ADR 0030)
        return await _checks(app, cert, now)


async def _checks(
    app: web.Application, cert: x509.Certificate, now: datetime
) -> tuple[Device, str, Decision] | Refuse:
    serial = serial_hex(cert)
    # the certificate and its device in one query (a deleted device's certificates go
    # with it: unknown)
    found = await app[STORE].repo(DeviceCertificateRepository).presented(serial)
    if found is None:
        return Refuse(RefusalReason.NOT_ENROLLED, 3600.0, "unknown certificate")
    record, device = found
    if record.revoked:
        return Refuse(RefusalReason.REVOKED, 7 * 24 * 3600.0, "certificate revoked")
    if not record.not_before <= now < record.not_after:
        return Refuse(RefusalReason.NOT_ENROLLED, 3600.0, "certificate expired")
    decision = await app[ENTITLEMENT_POLICY].decide(device, now)
    if not decision.entitled:
        return Refuse(
            decision.reason or RefusalReason.FORBIDDEN, decision.retry_after_s, "not entitled"
        )
    return device, serial, decision


async def _refuse_overloaded(
    session: GatewaySession, registry: TunnelRegistry, hello_timeout: float
) -> None:
    """No place at the gate: REFUSE(overloaded) with this device's own return slot."""
    registry.metrics.refused(RefusalReason.OVERLOADED.value)
    retry_after = registry.handshakes.retry_after()
    # HELLO first, as the protocol has it: a device still sending its HELLO into a closed
    # WebSocket would see a network error, not the REFUSE and its retry_after.
    with contextlib.suppress(TimeoutError, ProtocolError, SessionClosedError):
        await session.receive_hello(timeout=hello_timeout)
    await session.refuse(RefusalReason.OVERLOADED, retry_after, "gateway busy")


async def _receive_hello(
    session: GatewaySession, ws: web.WebSocketResponse, request: web.Request, timeout: float
) -> Hello | None:
    """The device's HELLO, or None (logged, counted, the WebSocket closed)."""
    try:
        return await session.receive_hello(timeout=timeout)
    except (TimeoutError, ProtocolError, SessionClosedError) as exc:
        _LOGGER.info("tunnel from %s: no valid HELLO: %s", request.remote, exc)
        request.app[TUNNELS].metrics.refused("handshake")
        await ws.close()
        return None


def _admitted_session(session: GatewaySession, device: Device) -> None:
    session.name = f"tunnel {device.slug}"
    if device.kind is DeviceKind.INVERTER_AGENT:
        # TelemetryIngest commits whatever arrives together (group commit): an agent's
        # window of frames can then share one commit instead of one commit each.
        session.telemetry_concurrency = _AGENT_TELEMETRY_CONCURRENCY


@dataclass(frozen=True, slots=True, kw_only=True)
class _Admitted:
    """A device through the handshake: WELCOME sent."""

    device: Device
    serial: str
    decision: Decision
    hello: Hello
    since: datetime
    changes: int
    """``registry.changes`` before the checks."""
    certificate: x509.Certificate | None


async def _handshake(
    request: web.Request, ws: web.WebSocketResponse, session: GatewaySession
) -> _Admitted | None:
    """Guard, gate, HELLO, checks, WELCOME; None when the device was refused or went away."""
    app = request.app
    config = app[CONFIG].tunnel
    registry = app[TUNNELS]
    # Before a place at the gate: a verified device certificate, and not too many
    # connections from one source (a silent crowd without certificates held the gate).
    certificate = peer_certificate(request)
    verified = certificate is not None and _from_device_ca(app, certificate)
    guard_pass = registry.guard.enter(request.remote or "", verified=verified)
    if guard_pass is None:
        registry.metrics.refused("guard")
        await ws.close(code=WSCloseCode.TRY_AGAIN_LATER)
        return None
    hello_timeout = min(config.hello_timeout_s, guard_pass.hello_timeout)
    if not verified:
        with guard_pass:  # a place of its own: HELLO, then REFUSE(not_enrolled)
            if await _receive_hello(session, ws, request, hello_timeout) is not None:
                refusal = _unverified_refusal(certificate)
                registry.metrics.refused(refusal.reason.value)
                await session.refuse(refusal.reason, refusal.retry_after, refusal.detail)
            return None
    # A restart's reconnect storm: wait briefly for a place (the TLS handshake is paid
    # already), or, when the queue is too long for that, send the device back for later.
    with guard_pass:
        ticket = await registry.handshakes.enter()
        if ticket is None:
            await _refuse_overloaded(session, registry, hello_timeout)
            return None
        with ticket:  # until WELCOME or refusal: the session itself runs outside the gate
            hello = await _receive_hello(session, ws, request, hello_timeout)
            if hello is None:
                return None
            now = app[CLOCK].now()
            changes = registry.changes
            admitted = await _admit(app, certificate, now)
            if isinstance(admitted, Refuse):
                registry.metrics.refused(admitted.reason.value)
                await session.refuse(admitted.reason, admitted.retry_after, admitted.detail)
                return None
            device, serial, decision = admitted
            try:
                await session.accept(
                    session_id=uuid.uuid4().hex,
                    capabilities=_CAPABILITIES,
                    reconnect_window=config.reconnect_window_s,
                )
            except RefusedError:
                registry.metrics.refused(RefusalReason.OUTDATED.value)
                return None
            except SessionClosedError as exc:  # the device went away before its WELCOME
                _LOGGER.info("tunnel from %s: gone during the handshake: %s", request.remote, exc)
                registry.metrics.refused("handshake")
                return None
    return _Admitted(
        device=device,
        serial=serial,
        decision=decision,
        hello=hello,
        since=now,
        changes=changes,
        certificate=certificate,
    )


async def tunnel_v1(request: web.Request) -> web.StreamResponse:
    """Accept a device's WebSocket, check who it is and whether it may, then serve it."""
    app = request.app
    # No permessage-deflate (a zlib state per tunnel; connectors never offer it) and no
    # aiohttp heartbeat: the session has its own PING/PONG (docs/protocol.md).
    ws = web.WebSocketResponse(
        max_msg_size=AIOHTTP_MAX_MSG_SIZE, compress=False, heartbeat=None, autoping=True
    )
    await ws.prepare(request)
    config = app[CONFIG].tunnel
    registry = app[TUNNELS]
    live: list[LiveTunnel] = []

    async def on_telemetry(seq: int, payload: bytes) -> None:
        handler = registry.telemetry_handler
        if handler is None or not live:
            raise LookupError("no telemetry handler on this gateway")
        await handler(live[0].device, seq, payload)

    session = GatewaySession(
        PushWebSocketTransport.for_request(ws, request),
        heartbeat=config.heartbeat_s,
        on_telemetry=on_telemetry,
    )
    admitted = await _handshake(request, ws, session)
    if admitted is None:
        return ws
    device, now, certificate = admitted.device, admitted.since, admitted.certificate
    _admitted_session(session, device)
    tunnel = LiveTunnel(
        device=device,
        session=session,
        session_id=session.welcome.session_id if session.welcome else "",
        since=now,
        peer=request.remote or "",
        hello=admitted.hello,
        protocol_version=choose_version(admitted.hello) or 0,
        certificate_serial=admitted.serial,
    )
    live.append(tunnel)
    await registry.register(tunnel, admitted.decision)
    if registry.changes != admitted.changes:
        # a revocation or entitlement change landed while this device was being admitted:
        # it may have missed the tunnel, so look again (rare; costs the checks once more)
        again = await _admit(app, certificate, app[CLOCK].now())
        if isinstance(again, Refuse):
            await registry.end(tunnel, again.reason, again.retry_after, again.detail)
        else:
            tunnel.decision = again[2]
    reason = "internal_error"
    try:
        reason = (await session.run()).value
    finally:
        registry.unregister(tunnel, reason)
    return ws
