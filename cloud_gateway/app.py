"""The gateway's aiohttp application: services from the composition root, routes per area."""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from aiohttp import web

from cloud_gateway import accounts, shop
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.banking import routes as banking_routes
from cloud_gateway.billing import routes as billing_routes
from cloud_gateway.composition import Services, build_services
from cloud_gateway.config import GatewayConfig
from cloud_gateway.contracts import routes as contract_routes
from cloud_gateway.entitlements import routes as entitlement_routes
from cloud_gateway.entitlements.api import DeviceEntitlementPolicy
from cloud_gateway.fleet.drain import NodeDrain
from cloud_gateway.http.chrome import page_chrome
from cloud_gateway.http.errors import domain_errors, malformed_input
from cloud_gateway.http.keys import (
    ACCOUNT_CLOSURE,
    ACCOUNTS,
    ALERTS,
    BANK,
    BILLING,
    CLOCK,
    CONFIG,
    CONTRACTS,
    CUSTOMERS,
    DEVICE_CA,
    DRAIN,
    ENROLMENT,
    ENTITLEMENT_POLICY,
    ENTITLEMENTS,
    FLEET,
    HUB_EVENTS,
    INVERTER_REGISTRATION,
    LICENCES,
    MAIL_WORKER,
    OPENAPI,
    OUTBOX,
    PASSWORDS,
    PAYMENTS,
    PLANT_ACCESS,
    REMOTE_GATE,
    SCHEDULER,
    SHOP,
    STORE,
    SUPPORT,
    TELEMETRY_INGEST,
    TEMPLATES,
    TUNNELS,
)
from cloud_gateway.http.openapi import OpenApi
from cloud_gateway.http.pages import make_templates, render, security_headers
from cloud_gateway.http.reads import release_on_prepare, shared_reads
from cloud_gateway.licences import routes as licence_routes
from cloud_gateway.monitoring import routes as monitoring_routes
from cloud_gateway.operator import routes as operator_routes
from cloud_gateway.payments import routes as payment_routes
from cloud_gateway.plants import routes as plant_routes
from cloud_gateway.portal import routes as portal_routes
from cloud_gateway.remote import routes as remote_routes
from cloud_gateway.store import Store
from cloud_gateway.support import routes as support_routes
from cloud_gateway.tls_budget import TlsBudget
from cloud_gateway.tunnels import routes as tunnel_routes
from cloud_gateway.tunnels.device_ca import DeviceCa
from tunnel.clock import Clock

__all__ = ["create_app", "install", "software_version"]

_STATIC = Path(__file__).with_name("static")


def software_version() -> str:
    """The installed version of the product."""
    try:
        return version("cloudconnector")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


async def start_page(request: web.Request) -> web.Response:
    """The public start page."""
    return render(request, "start.html", {})  # no version: nothing to pick exploits by


async def healthz(request: web.Request) -> web.Response:
    """Liveness and database check for load balancers and tests; 503 while draining."""
    store = request.app[STORE]
    async with store.engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")
    # no version: an anonymous caller learns nothing to pick exploits by
    body: dict[str, object] = {"status": "ok"}
    fleet = request.app[FLEET]
    if fleet is not None:
        body["node"] = fleet.node_id
    if request.app[DRAIN].draining:
        body["status"] = "draining"
        return web.json_response(body, status=503)
    return web.json_response(body)


def create_app(
    config: GatewayConfig,
    store: Store,
    clock: Clock,
    *,
    passwords: PasswordHasher | None = None,
    device_ca: DeviceCa | None = None,
    entitlements: DeviceEntitlementPolicy | None = None,
    tls_budget: TlsBudget | None = None,
) -> web.Application:
    """Build the gateway application on an open store (see :func:`build_services`)."""
    services = build_services(
        config,
        store,
        clock,
        passwords=passwords,
        device_ca=device_ca,
        entitlement_policy=entitlements,
        tls_budget=tls_budget,
    )
    app = web.Application(
        # shared_reads first: the other middlewares' reads (the gate's) share its connection
        middlewares=[shared_reads, malformed_input, page_chrome, domain_errors],
        # ticket attachments: 3 files of 2 MiB each (support.attachments) plus the form
        client_max_size=8 * 1024 * 1024,
    )
    install(app, services)
    app.on_response_prepare.append(security_headers)
    app.on_response_prepare.append(release_on_prepare)
    app.router.add_get("/", start_page, name="start")
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_static("/static/", _STATIC, name="static")
    entitlement_routes.setup(app)
    accounts.routes.setup(app)
    plant_routes.setup(app)
    monitoring_routes.setup(app)
    tunnel_routes.setup(app)
    remote_routes.setup(app)
    operator_routes.setup(app)
    shop.routes.setup(app)
    billing_routes.setup(app)
    banking_routes.setup(app)
    contract_routes.setup(app)
    licence_routes.setup(app)
    support_routes.setup(app)
    payment_routes.setup(app)
    portal_routes.setup(app)

    async def background(_app: web.Application) -> AsyncIterator[None]:
        async with services.running():
            yield

    app.cleanup_ctx.append(background)

    async def close_tunnels(_app: web.Application) -> None:
        # Before aiohttp waits for its handlers (up to 60 s): a tunnel's WebSocket handler
        # runs as long as the tunnel, so the tunnels end first, cleanly (a loaded stop waited
        # out the 60 s with the sessions unread until their heartbeat timed out).
        await services.tunnels.close_all()

    app.on_shutdown.append(close_tunnels)

    async def close_payments(_app: web.Application) -> None:
        await services.payments.close()

    app.on_cleanup.append(close_payments)
    return app


def install(app: web.Application, services: Services) -> None:
    """Put the services under their app keys (the only place that sets them)."""
    app[CONFIG] = services.config
    app[STORE] = services.store
    app[CLOCK] = services.clock
    app[PASSWORDS] = services.passwords
    app[TEMPLATES] = make_templates()
    app[OPENAPI] = OpenApi("CloudConnector gateway API", "1")
    app[DEVICE_CA] = services.device_ca
    app[OUTBOX] = services.outbox
    app[MAIL_WORKER] = services.mail_worker
    app[ENTITLEMENTS] = services.entitlements
    app[ENTITLEMENT_POLICY] = services.entitlement_policy
    app[SCHEDULER] = services.scheduler
    app[ACCOUNTS] = services.accounts
    app[CUSTOMERS] = services.customers
    app[PLANT_ACCESS] = services.plant_access
    app[INVERTER_REGISTRATION] = services.inverter_registration
    app[TELEMETRY_INGEST] = services.telemetry_ingest
    app[HUB_EVENTS] = services.hub_events
    app[TUNNELS] = services.tunnels
    app[ENROLMENT] = services.enrolment
    app[REMOTE_GATE] = services.remote_gate
    app[BILLING] = services.billing
    app[ALERTS] = services.alerts
    app[BANK] = services.bank
    app[CONTRACTS] = services.contracts
    app[SHOP] = services.shop
    app[LICENCES] = services.licences
    app[SUPPORT] = services.support
    app[PAYMENTS] = services.payments
    app[ACCOUNT_CLOSURE] = services.account_closure
    app[DRAIN] = services.drain or NodeDrain(services.tunnels)
    app[FLEET] = services.fleet
