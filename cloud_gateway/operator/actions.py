"""The console's device actions, shared by the operator API and the console pages.

Each action tells the device why (the operator's reason goes into the CONTROL message or
the REFUSE detail) and is written to the console audit with operator, reason and time.
"""

from __future__ import annotations

from enum import StrEnum

from aiohttp import web

from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.http.keys import CLOCK, STORE, TUNNELS
from cloud_gateway.operator.console import audit
from cloud_gateway.tunnels.repository_certificates import DeviceCertificateRepository

__all__ = ["DeviceAction", "act_on_device"]


class DeviceAction(StrEnum):
    """What an operator may do to a device's tunnel."""

    DISCONNECT = "disconnect"
    """Close the tunnel now; the device may reconnect at once."""
    DISABLE = "disable"
    """Set the operator flag: the tunnel is refused until enabled again."""
    ENABLE = "enable"
    """Clear the operator flag."""
    REVOKE = "revoke"
    """Revoke every certificate of the device: it must be paired again."""


async def act_on_device(
    request: web.Request, device: Device, action: DeviceAction, reason: str
) -> dict[str, object]:
    """Carry out ``action`` on ``device`` with ``reason``, audit it, and say what happened."""
    registry = request.app[TUNNELS]
    store = request.app[STORE]
    result: dict[str, object] = {"device": device.slug}
    if action is DeviceAction.DISCONNECT:
        result["disconnected"] = await registry.disconnect(device.id, reason)
    elif action in {DeviceAction.DISABLE, DeviceAction.ENABLE}:
        disabled = action is DeviceAction.DISABLE
        await store.repo(DeviceRepository).set_disabled(device.slug, disabled=disabled)
        await registry.entitlement_changed(device.id, f"disabled by operator: {reason}")
        result["disabled"] = disabled
    else:
        result["revoked"] = await store.repo(DeviceCertificateRepository).revoke_device(
            device.id, now=request.app[CLOCK].now(), reason=reason
        )
        await registry.revoked(device.id, f"certificate revoked: {reason}")
    await audit(request, f"device.{action.value}", device.slug, reason, detail=str(result))
    return result
