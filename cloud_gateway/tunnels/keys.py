"""Typed application keys of the tunnel area."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.entitlements.api import DeviceEntitlementPolicy
from cloud_gateway.tunnels.device_ca import DeviceCa
from cloud_gateway.tunnels.registry import TunnelRegistry

__all__ = ["DEVICE_CA", "ENTITLEMENT_POLICY", "TUNNELS"]

DEVICE_CA: web.AppKey[DeviceCa] = web.AppKey("device_ca", DeviceCa)
"""Signs device certificates; its certificate is the trust anchor of ``/tunnel/v1``."""
ENTITLEMENT_POLICY: web.AppKey[DeviceEntitlementPolicy] = web.AppKey("entitlement_policy")
"""Answers "may this device use the service now?"; the entitlement area plugs its rules in."""
TUNNELS: web.AppKey[TunnelRegistry] = web.AppKey("tunnels", TunnelRegistry)
"""Live tunnels of this node; also the EntitlementListener to call when entitlement changes."""
