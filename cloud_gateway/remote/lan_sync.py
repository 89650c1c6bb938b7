"""Keeps a hub's LAN allow-list in step with the owner's list (Netzwerkgeräte, R-DEV-10).

:func:`lan_sender` is a tunnel state hook: a CCU hub gets its list as CONTROL whenever its
tunnel is admitted or re-evaluated. :func:`push_lan_targets` sends it after the owner changed
the list, when the hub is connected to this node (otherwise it gets it on its next connect).
"""

from __future__ import annotations

import contextlib

from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.remote.lan import lan_control_message
from cloud_gateway.remote.repository_lan import LanTargetRepository
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import LiveTunnel, StateHook, TunnelRegistry

__all__ = ["lan_sender", "push_lan_targets"]


async def _send(store: Store, tunnel: LiveTunnel) -> None:
    if tunnel.device.kind is not DeviceKind.CCU:
        return
    targets = await store.repo(LanTargetRepository).list_for_device(tunnel.device.id)
    with contextlib.suppress(ConnectionError, TimeoutError):
        await tunnel.session.send_control(lan_control_message(targets))


def lan_sender(store: Store) -> StateHook:
    """The tunnel state hook that tells a hub its LAN targets."""

    async def send_lan_targets(tunnel: LiveTunnel) -> None:
        await _send(store, tunnel)

    return send_lan_targets


async def push_lan_targets(store: Store, tunnels: TunnelRegistry, device_id: int) -> bool:
    """Send the hub its current list now; ``False`` when it is not connected here."""
    tunnel = tunnels.get(device_id)
    if tunnel is None:
        return False
    await _send(store, tunnel)
    return True
