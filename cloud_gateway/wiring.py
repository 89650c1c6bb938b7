"""Connections between the gateway's areas that neither area should know about.

The composition root (:mod:`cloud_gateway.composition`) builds them and passes them in.

- Telemetry arriving through a tunnel goes to the telemetry ingest (inverter agents) or to
  the hub event sink (CCU hubs); the ACK follows their commit.
- A CCU hub gets its packages as CONTROL after WELCOME and whenever its entitlement is
  re-evaluated (a window granted, booked or ended).
"""

from __future__ import annotations

import contextlib
import logging

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.entitlements.hub_packages import packages_message
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.store import Store
from cloud_gateway.telemetry.hub_events import HubEventSink
from cloud_gateway.telemetry.ingest import TelemetryIngest
from cloud_gateway.tunnels.registry import LiveTunnel, StateHook, TelemetryHandler
from tunnel.clock import Clock

__all__ = ["package_sender", "route_telemetry"]

_LOGGER = logging.getLogger(__name__)


def route_telemetry(ingest: TelemetryIngest, hub_events: HubEventSink) -> TelemetryHandler:
    """The tunnel registry's TELEMETRY handler: CCU events to the hub sink, readings to ingest."""

    async def on_telemetry(device: Device, seq: int, payload: bytes) -> None:
        if device.kind is DeviceKind.CCU:
            await hub_events.ingest(device, seq, payload)
        else:
            await ingest.ingest(device, seq, payload)

    return on_telemetry


def package_sender(store: Store, entitlements: EntitlementService, clock: Clock) -> StateHook:
    """A tunnel state hook: a CCU hub gets its package view as CONTROL."""

    async def send_packages(tunnel: LiveTunnel) -> None:
        device = tunnel.device
        if device.kind is not DeviceKind.CCU or device.account_id is None:
            return
        account = await store.repo(AccountRepository).get(device.account_id)
        decided = tunnel.decision.windows if tunnel.decision is not None else None
        # the windows the newest decision read (at WELCOME or the re-evaluation this hook
        # follows), else read now
        if decided is not None:
            windows = list(decided)
        else:
            windows = await entitlements.account_windows(account.id, device.id)
        body = packages_message(
            account_id=account.id,
            username=account.username,
            device_slug=device.slug,
            windows=windows,
            now=clock.now(),
        )
        with contextlib.suppress(ConnectionError, TimeoutError):
            await tunnel.session.send_control(body)

    return send_packages
