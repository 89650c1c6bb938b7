"""Every typed application key of the gateway, in one module.

The composition root (:mod:`cloud_gateway.app`) fills them from
:func:`cloud_gateway.composition.build_services` before any route runs; views read them.
No area module sets a key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

from cloud_gateway.accounts.customers import CustomerService
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.service import AccountService
from cloud_gateway.banking.service import BankService
from cloud_gateway.billing.service import BillingService
from cloud_gateway.config import GatewayConfig
from cloud_gateway.contracts.service import ContractService
from cloud_gateway.entitlements.api import DeviceEntitlementPolicy
from cloud_gateway.entitlements.scheduler import EntitlementScheduler
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.fleet.drain import NodeDrain
from cloud_gateway.fleet.node import FleetNode
from cloud_gateway.http.openapi import OpenApi
from cloud_gateway.licences.service import LicenceService
from cloud_gateway.monitoring.service import AlertService
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.worker import MailWorker
from cloud_gateway.payments.service import PaymentService
from cloud_gateway.plants.access import PlantAccessPolicy
from cloud_gateway.plants.service import InverterRegistration
from cloud_gateway.portal.closure import AccountClosure
from cloud_gateway.remote.gate import RemoteGate
from cloud_gateway.store import Store
from cloud_gateway.telemetry.hub_events import HubEventSink
from cloud_gateway.telemetry.ingest import TelemetryIngest
from cloud_gateway.tunnels.device_ca import DeviceCa
from cloud_gateway.tunnels.enrolment import EnrolmentService
from cloud_gateway.tunnels.registry import TunnelRegistry
from tunnel.clock import Clock

if TYPE_CHECKING:  # the shop's package imports its web modules, which import these keys
    from cloud_gateway.shop.service import ShopService
    from cloud_gateway.support.service import SupportService

__all__ = [
    "ACCOUNTS",
    "ACCOUNT_CLOSURE",
    "ALERTS",
    "BANK",
    "BILLING",
    "CLOCK",
    "CONFIG",
    "CONTRACTS",
    "CUSTOMERS",
    "DEVICE_CA",
    "ENROLMENT",
    "ENTITLEMENTS",
    "ENTITLEMENT_POLICY",
    "HUB_EVENTS",
    "INVERTER_REGISTRATION",
    "LICENCES",
    "MAIL_WORKER",
    "OPENAPI",
    "OUTBOX",
    "PASSWORDS",
    "PAYMENTS",
    "PLANT_ACCESS",
    "REMOTE_GATE",
    "SCHEDULER",
    "SHOP",
    "SHOP_TEMPLATES",
    "STORE",
    "SUPPORT",
    "TELEMETRY_INGEST",
    "TEMPLATES",
    "TUNNELS",
]

CONFIG: web.AppKey[GatewayConfig] = web.AppKey("config", GatewayConfig)
STORE: web.AppKey[Store] = web.AppKey("store", Store)
CLOCK: web.AppKey[Clock] = web.AppKey("clock", Clock)
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates", jinja2.Environment)
SHOP_TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("shop_templates", jinja2.Environment)
PASSWORDS: web.AppKey[PasswordHasher] = web.AppKey("passwords", PasswordHasher)
ACCOUNTS: web.AppKey[AccountService] = web.AppKey("accounts", AccountService)
"""Registration, login with lockout, password reset and change."""
CUSTOMERS: web.AppKey[CustomerService] = web.AppKey("customers", CustomerService)
"""Customer data and VAT ID checks."""
OPENAPI: web.AppKey[OpenApi] = web.AppKey("openapi", OpenApi)
"""Descriptions of ``/api/v1`` operations: ``app[OPENAPI].add(method, path, operation)``."""
#: whether a plant's data may be served (402 otherwise)
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
SCHEDULER: web.AppKey[EntitlementScheduler] = web.AppKey(
    "entitlement_scheduler", EntitlementScheduler
)
#: the notification outbox: ``await app[OUTBOX].put(conn, Mail(...), now=...)`` then ``wake()``
OUTBOX: web.AppKey[Outbox] = web.AppKey("outbox", Outbox)
MAIL_WORKER: web.AppKey[MailWorker] = web.AppKey("mail_worker", MailWorker)
DEVICE_CA: web.AppKey[DeviceCa] = web.AppKey("device_ca", DeviceCa)
"""Signs device certificates; its certificate is the trust anchor of ``/tunnel/v1``."""
ENTITLEMENT_POLICY: web.AppKey[DeviceEntitlementPolicy] = web.AppKey("entitlement_policy")
"""Answers "may this device use the service now?"; the entitlement area plugs its rules in."""
TUNNELS: web.AppKey[TunnelRegistry] = web.AppKey("tunnels", TunnelRegistry)
"""Live tunnels of this node; also the EntitlementListener to call when entitlement changes."""
ENROLMENT: web.AppKey[EnrolmentService] = web.AppKey("enrolment", EnrolmentService)
REMOTE_GATE: web.AppKey[RemoteGate] = web.AppKey("remote_gate", RemoteGate)
"""The per-request checks of device hosts and the traffic ledger (``.ledger``)."""
BILLING: web.AppKey[BillingService] = web.AppKey("billing", BillingService)
"""The money core: orders, payments, documents, the billing run."""
ALERTS: web.AppKey[AlertService] = web.AppKey("alerts", AlertService)
"""The alert scheduler and the owner's alert settings (R-MON-17)."""
BANK: web.AppKey[BankService] = web.AppKey("bank", BankService)
"""Bank statements (camt.053) imported and matched; the queue of unmatched payments."""
CONTRACTS: web.AppKey[ContractService] = web.AppKey("contracts", ContractService)
"""Prepaid service contracts: provider pre-check, ordering, views, preview, refunds."""
SHOP: web.AppKey[ShopService] = web.AppKey("shop")
"""Carts, vouchers, checkout and the account's orders."""
LICENCES: web.AppKey[LicenceService] = web.AppKey("licences", LicenceService)
"""Monitoring licences: price, order, pay, power increases, the agent's configuration."""
#: tickets and repair orders (R-POR-5, R-MON-21)
SUPPORT: web.AppKey[SupportService] = web.AppKey("support")
PAYMENTS: web.AppKey[PaymentService] = web.AppKey("payments", PaymentService)
"""Payment providers: starts payments (the shop's PaymentPort), returns and webhooks."""
ACCOUNT_CLOSURE: web.AppKey[AccountClosure] = web.AppKey("account_closure", AccountClosure)
"""Closes accounts: contracts ended, personal data erased, devices revoked (R-POR-6)."""
DRAIN: web.AppKey[NodeDrain] = web.AppKey("drain", NodeDrain)
"""The node's graceful drain; ``/healthz`` answers 503 while it runs (ADR 0020)."""
FLEET: web.AppKey[FleetNode | None] = web.AppKey("fleet")
"""This node's part in a fleet (directory, control bus, leases), None on a single node."""
