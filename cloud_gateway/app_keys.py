"""Typed application keys shared by every area of the gateway."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.config import GatewayConfig
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.plants.access import PlantAccessPolicy
from cloud_gateway.plants.service import InverterRegistration
from cloud_gateway.store import Store
from cloud_gateway.telemetry.hub_events import HubEventSink
from cloud_gateway.telemetry.ingest import TelemetryIngest

__all__ = [
    "CONFIG",
    "ENTITLEMENTS",
    "HUB_EVENTS",
    "INVERTER_REGISTRATION",
    "OUTBOX",
    "PASSWORDS",
    "PLANT_ACCESS",
    "STORE",
    "TELEMETRY_INGEST",
]

CONFIG: web.AppKey[GatewayConfig] = web.AppKey("config", GatewayConfig)
STORE: web.AppKey[Store] = web.AppKey("store", Store)
PASSWORDS: web.AppKey[PasswordHasher] = web.AppKey("passwords", PasswordHasher)
#: whether a plant's data may be served (402 otherwise); replace before the app starts
PLANT_ACCESS: web.AppKey[PlantAccessPolicy] = web.AppKey("plant_access")
#: registers inverters by serial and activation code
INVERTER_REGISTRATION: web.AppKey[InverterRegistration] = web.AppKey(
    "inverter_registration", InverterRegistration
)
#: the tunnel's TELEMETRY callback: ``app[TELEMETRY_INGEST].handler_for(device)``
TELEMETRY_INGEST: web.AppKey[TelemetryIngest] = web.AppKey("telemetry_ingest", TelemetryIngest)
#: CCU hub events (``ccu_events`` telemetry): dedup + MQTT fan-out
HUB_EVENTS: web.AppKey[HubEventSink] = web.AppKey("hub_events", HubEventSink)
#: entitlement windows and decisions; also the app's DeviceEntitlementPolicy
ENTITLEMENTS: web.AppKey[EntitlementService] = web.AppKey("entitlements", EntitlementService)
#: the notification outbox: ``await app[OUTBOX].put(conn, Mail(...), now=...)`` then ``wake()``
OUTBOX: web.AppKey[Outbox] = web.AppKey("outbox", Outbox)
