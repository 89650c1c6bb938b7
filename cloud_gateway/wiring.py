"""Connections between the gateway's areas that neither area should know about.

- Telemetry arriving through a tunnel goes to the telemetry ingest (inverter agents) or to
  the hub event sink (CCU hubs); the ACK follows their commit.
- A CCU hub gets its packages as CONTROL after WELCOME and whenever its entitlement is
  re-evaluated (a window granted, booked or ended).
"""

from __future__ import annotations

import contextlib
import logging

from aiohttp import web

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.app_keys import ENTITLEMENTS, HUB_EVENTS, STORE, TELEMETRY_INGEST
from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.entitlements.hub_packages import packages_message
from cloud_gateway.tunnels.keys import TUNNELS
from cloud_gateway.tunnels.registry import LiveTunnel
from cloud_gateway.web import CLOCK

__all__ = ["wire"]

_LOGGER = logging.getLogger(__name__)


def wire(app: web.Application) -> None:
    """Connect tunnels to telemetry and to the hub package view."""
    registry = app[TUNNELS]
    ingest = app[TELEMETRY_INGEST]
    hub_events = app[HUB_EVENTS]

    async def on_telemetry(device: Device, seq: int, payload: bytes) -> None:
        if device.kind is DeviceKind.CCU:
            await hub_events.ingest(device, seq, payload)
        else:
            await ingest.ingest(device, seq, payload)

    async def send_packages(tunnel: LiveTunnel) -> None:
        device = tunnel.device
        if device.kind is not DeviceKind.CCU or device.account_id is None:
            return
        store = app[STORE]
        account = await store.repo(AccountRepository).get(device.account_id)
        windows = await app[ENTITLEMENTS].account_windows(account.id, device.id)
        body = packages_message(
            account_id=account.id,
            username=account.username,
            device_slug=device.slug,
            windows=windows,
            now=app[CLOCK].now(),
        )
        with contextlib.suppress(ConnectionError, TimeoutError):
            await tunnel.session.send_control(body)

    registry.telemetry_handler = on_telemetry
    registry.state_hooks.append(send_packages)
