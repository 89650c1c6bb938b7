"""The composition root: every service of the gateway, built once with its dependencies.

:func:`build_services` constructs each service with what it needs passed in, in dependency
order; nothing looks a service up later. Two pairs need each other and are connected here,
at the end of the build and before anything runs (never by an area):

- the entitlement service decides for the tunnel registry and the remote gate, and tells both
  when windows change (``add_listener``);
- the tunnel registry tells the remote gate when a tunnel's state changes, and the gate asks
  the registry for the live tunnel of a device;
- on a fleet (ADR 0020) the node observes the registry and relays its announcements, and the
  gate asks the node where a tunnel elsewhere is held.

Listeners that are not part of a cycle (licences on inverter power and nameplates, the fleet's
scheduler waker, the drain) are connected here too: ``tests/test_layout.py`` checks that no
other module sets such a hook on a service.

:meth:`Services.running` starts and stops every background task in one place, under one
``TaskGroup``: the mail worker, the entitlement scheduler, the MQTT outbox publisher, the
remote-access audit writer, the billing scheduler and the alert scheduler.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cloud_gateway.accounts.customers import CustomerService
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.service import AccountService
from cloud_gateway.accounts.vies import ViesClient
from cloud_gateway.banking.service import BankService
from cloud_gateway.billing.activation import DOCUMENT_SOURCE
from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.scheduler import BillingScheduler
from cloud_gateway.billing.service import BillingService
from cloud_gateway.config import GatewayConfig, PlantsConfig
from cloud_gateway.contracts.provider import HttpServiceProvider
from cloud_gateway.contracts.service import ContractService
from cloud_gateway.entitlements.api import DeviceEntitlementPolicy
from cloud_gateway.entitlements.scheduler import EntitlementScheduler
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.errors import ConfigError
from cloud_gateway.fleet.drain import NodeDrain
from cloud_gateway.fleet.node import FleetNode
from cloud_gateway.fleet.tls import FleetTls, ensure_fleet_tls
from cloud_gateway.licences.service import LicenceService
from cloud_gateway.monitoring.service import AlertService
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.notify.worker import MailWorker
from cloud_gateway.payments.model import Provider
from cloud_gateway.payments.providers import PaymentProvider
from cloud_gateway.payments.providers.paypal import PayPalProvider
from cloud_gateway.payments.providers.psp import PspProvider
from cloud_gateway.payments.service import PaymentService
from cloud_gateway.plants.access import PlantAccessPolicy
from cloud_gateway.plants.activation import GuessLimit
from cloud_gateway.plants.licence_access import LicencePlantAccess
from cloud_gateway.plants.service import InverterRegistration
from cloud_gateway.portal.closure import AccountClosure
from cloud_gateway.remote.gate import RemoteGate
from cloud_gateway.remote.lan_sync import lan_sender
from cloud_gateway.remote.ledger import TrafficLedger
from cloud_gateway.remote.relay import RelayClient, RelayServer
from cloud_gateway.remote.repository import RemoteAccessRepository
from cloud_gateway.shop.service import ShopService
from cloud_gateway.store import Store
from cloud_gateway.support.service import SupportService
from cloud_gateway.telemetry.hub_events import HubEventSink
from cloud_gateway.telemetry.ingest import TelemetryIngest
from cloud_gateway.telemetry.publisher import MqttOutboxPublisher, broker_tls
from cloud_gateway.telemetry.repository_outbox import MqttOutboxRepository
from cloud_gateway.tls_budget import TlsBudget, TlsBudgetMetrics
from cloud_gateway.tunnels.device_ca import DeviceCa
from cloud_gateway.tunnels.enrolment import EnrolmentService
from cloud_gateway.tunnels.registry import TunnelRegistry
from cloud_gateway.wiring import package_sender, route_telemetry
from tunnel.clock import Clock

__all__ = ["DEMO_ACTIVATION_KEY", "Services", "build_services"]

_LOGGER = logging.getLogger(__name__)

#: the documented demo manufacturer key (docs/activation-codes.md); never for production
DEMO_ACTIVATION_KEY = b"cloudconnector-demo-manufacturer-key-v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """Every service of one gateway node, built by :func:`build_services`."""

    config: GatewayConfig
    store: Store
    clock: Clock
    passwords: PasswordHasher
    device_ca: DeviceCa
    outbox: Outbox
    mail_worker: MailWorker
    entitlements: EntitlementService
    entitlement_policy: DeviceEntitlementPolicy
    """The entitlement service, or a stand-in given to :func:`build_services` (tests)."""
    scheduler: EntitlementScheduler
    accounts: AccountService
    customers: CustomerService
    plant_access: PlantAccessPolicy
    inverter_registration: InverterRegistration
    publisher: MqttOutboxPublisher | None
    """The MQTT outbox publisher (``None`` with MQTT off)."""
    telemetry_ingest: TelemetryIngest
    hub_events: HubEventSink
    tunnels: TunnelRegistry
    enrolment: EnrolmentService
    remote_gate: RemoteGate
    billing: BillingService
    """The money core: orders, payments, documents, the billing run."""
    billing_scheduler: BillingScheduler
    """Runs the billing run when a contract's job is due."""
    alerts: AlertService
    """The alert scheduler (R-MON-17): one round a minute."""
    bank: BankService
    """Bank statements (camt.053): import, matching, the queue of unmatched payments."""
    contracts: ContractService
    """Prepaid service contracts: provider pre-check, ordering mail, views, refunds."""
    shop: ShopService
    """Carts, vouchers, checkout and the account's orders (R-CCU-3..5, 11, 12)."""
    licences: LicenceService
    """Monitoring licences: price, order, pay, power increases, the agent's configuration."""
    support: SupportService
    """Tickets and repair orders (R-POR-5, R-MON-21)."""
    payments: PaymentService
    """Payment providers: the shop's PaymentPort, returns and webhooks."""
    account_closure: AccountClosure
    """Closes accounts: contracts ended, personal data erased, devices revoked (R-POR-6)."""
    drain: NodeDrain | None = None
    """The node's graceful drain (``/healthz`` reports it)."""
    fleet: FleetNode | None = None
    """This node's part in a fleet (``[cluster] enabled`` on PostgreSQL), else None."""
    relay: RelayServer | None = None
    """The internal listener for remote access forwarded by other nodes (with ``fleet``)."""

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Background tasks run inside the block; leaving it stops them in order.

        At the end: password resets requested before finish (each runs in a task of its own:
        left pending, its pooled connection outlived the store's close), the tunnels close,
        the audit writer writes the counted traffic once more, the ingest finishes its groups,
        then the workers stop.
        """
        stop = asyncio.Event()
        supervisor = asyncio.create_task(self._supervise(stop), name="gateway background")
        try:
            yield
        finally:
            await self.accounts.resets_done()
            await self.tunnels.close_all()
            stop.set()
            await supervisor
            if self.remote_gate.relay is not None:
                self.remote_gate.relay.close()

    def _background(self) -> dict[str, Coroutine[Any, Any, None]]:
        jobs = {
            "mail-worker": self.mail_worker.run(),
            "remote audit writer": self.remote_gate.ledger.run(),
            # on every node: a cancellation asked twice is done once at PayPal
            "paypal-cancellations": self.payments.run_cancellations(),
        }
        # once across the fleet (ADR 0020): under a lease when this node is one of several
        singletons: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
            "entitlement-scheduler": self.scheduler.run,
            "billing-scheduler": self.billing_scheduler.run_forever,
            "alert-scheduler": self.alerts.run,
        }
        if self.publisher is not None:
            singletons["mqtt-outbox-publisher"] = self.publisher.run
        fleet = self.fleet
        for name, job in singletons.items():
            jobs[name] = job() if fleet is None else fleet.singleton(name, job)
        if fleet is not None:
            jobs["fleet-node"] = fleet.run()
        if self.relay is not None:
            jobs["remote-relay"] = self.relay.serve()
        return jobs

    async def _supervise(self, stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as group:
            tasks = {
                name: group.create_task(job, name=name) for name, job in self._background().items()
            }
            await stop.wait()
            audit = tasks.pop("remote audit writer")
            audit.cancel()
            await asyncio.gather(audit, return_exceptions=True)
            written = await self.remote_gate.ledger.flush()
            _LOGGER.info("remote-access audit written at shutdown (%d sessions)", written)
            await self.telemetry_ingest.close()
            await self.alerts.close()
            for task in tasks.values():
                task.cancel()


def _activation_key(config: PlantsConfig) -> bytes:
    """The manufacturer key; the public demo key only on explicit opt-in (fail closed)."""
    key = config.activation_key.encode()
    if key:
        return key
    if not config.demo_activation_key:
        raise ConfigError(
            "gateway configuration",
            "plants.activation_key",
            "not set: a gateway needs the manufacturer's secret key for activation codes "
            "(plants.demo_activation_key = true uses the public demo key, for demos and tests)",
        )
    _LOGGER.warning("plants.activation_key is not set: using the demo manufacturer key")
    return DEMO_ACTIVATION_KEY


def build_services(
    config: GatewayConfig,
    store: Store,
    clock: Clock,
    *,
    passwords: PasswordHasher | None = None,
    device_ca: DeviceCa | None = None,
    entitlement_policy: DeviceEntitlementPolicy | None = None,
    tls_budget: TlsBudget | None = None,
) -> Services:
    """Construct every service of the gateway on an open store.

    ``device_ca`` is loaded from (or created in) the state folder when not given;
    ``entitlement_policy`` overrides the device policy (tests of other areas); by default the
    entitlement service decides (trials, packages, licences, grants); ``tls_budget``, the
    listeners' TLS handshake budget (ADR 0032), is counted in the tunnel metrics when given.
    """
    passwords = passwords or PasswordHasher()
    device_ca = device_ca or DeviceCa.ensure(config.state_dir, clock.now())
    # notify and entitlements
    mail_worker = MailWorker(store.repo(OutboxRepository), config.smtp, clock)
    outbox = Outbox(store.repo(OutboxRepository), wakers=(mail_worker.wake,))
    entitlements = EntitlementService(store, clock, config.entitlements)
    policy = entitlement_policy or entitlements
    # accounts
    customers = CustomerService(store, clock, ViesClient(config.vat), config.vat)
    scheduler = EntitlementScheduler(
        store, entitlements, outbox, clock, jobs=(customers.retry_due,)
    )
    accounts = AccountService(
        store,
        clock,
        passwords,
        outbox,
        config.accounts,
        registration_steps=(entitlements.grant_account_trial,),
    )
    # plants and telemetry
    plant_access = LicencePlantAccess(entitlements)
    inverter_registration = InverterRegistration(
        store,
        clock,
        key=_activation_key(config.plants),
        limit=GuessLimit(
            max_failures=config.plants.max_wrong_codes,
            max_failures_per_source=config.plants.max_wrong_codes_per_source,
            window=timedelta(seconds=config.plants.wrong_code_window_s),
        ),
    )
    mqtt = config.mqtt
    publisher = (
        MqttOutboxPublisher(
            store.repo(MqttOutboxRepository),
            host=mqtt.host,
            port=mqtt.port,
            client_id=mqtt.client_id or None,
            tls=broker_tls(mqtt),
            username=mqtt.username,
            password=mqtt.password,
        )
        if mqtt.enabled
        else None
    )
    topic_prefix = mqtt.topic_prefix if mqtt.enabled else None
    on_commit = publisher.wake if publisher is not None else None
    ingest = TelemetryIngest(
        store, clock, access=plant_access, topic_prefix=topic_prefix, on_commit=on_commit
    )
    hub_events = HubEventSink(store, clock, topic_prefix=topic_prefix, on_commit=on_commit)
    alerts = AlertService(
        store,
        clock,
        plant_access,
        topic_prefix=topic_prefix,
        wakers=(mail_worker.wake,) if publisher is None else (mail_worker.wake, publisher.wake),
    )
    # tunnels and remote access
    tunnels = TunnelRegistry(
        store,
        clock,
        policy,
        telemetry_handler=route_telemetry(ingest, hub_events),
    )
    if tls_budget is not None:  # /metrics beside the tunnels' own counters
        tunnels.metrics.registry.register(TlsBudgetMetrics(tls_budget))
    ledger = TrafficLedger(
        store.repo(RemoteAccessRepository), clock, interval_s=config.remote.audit_flush_s
    )
    gate = RemoteGate(
        store=store,
        clock=clock,
        policy=policy,
        tunnels=tunnels,
        config=config.remote,
        ledger=ledger,
    )
    # the two cycles (module docstring); hook order as before: the gate forgets, then the
    # hub gets its packages
    tunnels.state_hooks.extend(
        (gate.tunnel_state_changed, package_sender(store, entitlements, clock))
    )
    entitlements.add_listener(gate)
    entitlements.add_listener(tunnels)
    # a hub learns its LAN targets (Netzwerkgeräte) whenever its tunnel comes up
    tunnels.state_hooks.append(lan_sender(store))
    # money
    billing_repository = store.repo(BillingRepository)
    billing = BillingService(
        billing_repository,
        load_catalogues(),
        clock,
        config.billing,
        entitlements=entitlements,
        outbox=outbox,
    )
    mail_worker.add_source(DOCUMENT_SOURCE, billing.rendered_document)
    contracts = ContractService(
        store=store,
        billing=billing,
        catalogues=load_catalogues(),
        provider=HttpServiceProvider(
            config.contracts.provider_url, config.contracts.provider_timeout_s
        ),
        outbox=outbox,
        clock=clock,
        config=config.billing,
    )
    payments = _payments(config, store, billing, clock)
    shop = ShopService(
        store,
        billing,
        load_catalogues(),
        clock,
        config.billing,
        entitlements=entitlements,
        payments=payments,
        methods=payments.methods,
    )
    licences = LicenceService(
        store,
        clock,
        billing=billing,
        entitlements=entitlements,
        payments=payments,
        methods=payments.methods,
        outbox=outbox,
        tunnels=tunnels,
    )
    inverter_registration.power_listeners.append(licences.check_power)
    ingest.nameplate_listeners.append(licences.nameplates_changed)
    ingest.reading_listeners.append(alerts.readings_arrived)
    # the fleet (ADR 0020): only as one of several nodes on PostgreSQL
    cluster = config.cluster
    drain = NodeDrain(tunnels, grace_s=cluster.drain_grace_s, spread_s=cluster.drain_spread_s)
    fleet, relay = None, None
    if cluster.enabled and store.engine.dialect.name == "postgresql":
        fleet, relay = _fleet(config, store, clock, tunnels=tunnels, gate=gate, scheduler=scheduler)
        entitlements.add_listener(fleet.scheduler_waker)
        drain.on_change.append(fleet.set_draining)
    elif cluster.enabled:
        _LOGGER.warning("cluster.enabled needs PostgreSQL: running as a single node")
    return Services(
        config=config,
        store=store,
        clock=clock,
        passwords=passwords,
        device_ca=device_ca,
        outbox=outbox,
        mail_worker=mail_worker,
        entitlements=entitlements,
        entitlement_policy=policy,
        scheduler=scheduler,
        accounts=accounts,
        customers=customers,
        plant_access=plant_access,
        inverter_registration=inverter_registration,
        publisher=publisher,
        telemetry_ingest=ingest,
        hub_events=hub_events,
        tunnels=tunnels,
        enrolment=EnrolmentService(store, device_ca, config.enrolment, clock),
        remote_gate=gate,
        billing=billing,
        billing_scheduler=BillingScheduler(billing, billing_repository, clock),
        alerts=alerts,
        bank=BankService(store, billing, clock, iban=config.billing.iban),
        contracts=contracts,
        shop=shop,
        licences=licences,
        support=SupportService(store, outbox, billing, clock),
        payments=payments,
        account_closure=AccountClosure(
            store=store,
            clock=clock,
            passwords=passwords,
            outbox=outbox,
            billing=billing,
            tunnels=tunnels,
            subscriptions=payments,
        ),
        drain=drain,
        fleet=fleet,
        relay=relay,
    )


def _payments(
    config: GatewayConfig, store: Store, billing: BillingService, clock: Clock
) -> PaymentService:
    """The payment service with the providers the ``[payments]`` section configures."""
    settings = config.payments
    providers: dict[Provider, PaymentProvider] = {}
    if settings.paypal_api_url:
        paypal = PayPalProvider(settings)
        providers[Provider.PAYPAL] = providers[Provider.PAYPAL_SUBSCRIPTION] = paypal
    if settings.psp_url:
        providers[Provider.PSP] = PspProvider(settings, clock)
    return PaymentService(
        store, billing, clock, settings, providers=providers, gateway_url=settings.gateway_url
    )


def _fleet(
    config: GatewayConfig,
    store: Store,
    clock: Clock,
    *,
    tunnels: TunnelRegistry,
    gate: RemoteGate,
    scheduler: EntitlementScheduler,
) -> tuple[FleetNode, RelayServer]:
    """This node's part in the fleet and its internal listener (bound now: the fleet row
    names its address)."""
    cluster = config.cluster
    if cluster.internal_ca_file and cluster.internal_cert_file and cluster.internal_key_file:
        fleet_tls = FleetTls(
            ca=cluster.internal_ca_file,
            cert=cluster.internal_cert_file,
            key=cluster.internal_key_file,
        )
    else:
        fleet_tls = ensure_fleet_tls(config.state_dir, clock.now())
    sock = socket.create_server((cluster.internal_host, cluster.internal_port))
    address = f"{cluster.internal_address or cluster.internal_host}:{sock.getsockname()[1]}"
    fleet = FleetNode(
        store, clock, tunnels, cluster, internal_url=address, listeners=(gate,), wake=scheduler.wake
    )
    relay = RelayServer(
        sock, fleet_tls, registry=tunnels, store=store, clock=clock, node_id=fleet.node_id
    )
    tunnels.observers.append(fleet)
    tunnels.relay = fleet
    gate.locate = fleet.holder_elsewhere
    gate.relay = RelayClient(fleet_tls, fleet.node_id)
    return fleet, relay
