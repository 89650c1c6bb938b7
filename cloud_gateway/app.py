"""The gateway's aiohttp application: one factory, typed app keys, routes per area."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from aiohttp import web

from cloud_gateway import accounts, shop
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.app_keys import CONFIG, PASSWORDS, STORE
from cloud_gateway.billing import routes as billing_routes
from cloud_gateway.config import GatewayConfig
from cloud_gateway.entitlements import setup as entitlements_setup
from cloud_gateway.entitlements.api import DeviceEntitlementPolicy
from cloud_gateway.operator import routes as operator_routes
from cloud_gateway.plants import routes as plant_routes
from cloud_gateway.remote import routes as remote_routes
from cloud_gateway.store import Store
from cloud_gateway.telemetry import setup as telemetry_setup
from cloud_gateway.tunnels import routes as tunnel_routes
from cloud_gateway.tunnels.device_ca import DeviceCa
from cloud_gateway.tunnels.keys import DEVICE_CA
from cloud_gateway.web import CLOCK, TEMPLATES, make_templates, render, security_headers
from cloud_gateway.wiring import wire
from tunnel.clock import Clock

__all__ = ["CONFIG", "STORE", "create_app", "software_version"]  # keys re-exported

_STATIC = Path(__file__).with_name("static")


def software_version() -> str:
    """The installed version of the product."""
    try:
        return version("cloudconnector")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


async def start_page(request: web.Request) -> web.Response:
    """The public start page."""
    return render(request, "start.html", {"version": software_version()})


async def healthz(request: web.Request) -> web.Response:
    """Liveness and database check for load balancers and tests."""
    store = request.app[STORE]
    async with store.engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")
    return web.json_response({"status": "ok", "version": software_version()})


def create_app(
    config: GatewayConfig,
    store: Store,
    clock: Clock,
    *,
    passwords: PasswordHasher | None = None,
    device_ca: DeviceCa | None = None,
    entitlements: DeviceEntitlementPolicy | None = None,
) -> web.Application:
    """Build the gateway application on an open store.

    Each area registers its own routes in its ``routes.setup(app)``. ``device_ca`` is
    loaded from (or created in) the state folder when not given; ``entitlements``
    defaults to the entitlement service (windows: trials, packages, licences, grants).
    """
    app = web.Application(middlewares=[security_headers])
    app[CONFIG] = config
    app[STORE] = store
    app[CLOCK] = clock
    app[PASSWORDS] = passwords or PasswordHasher()
    app[TEMPLATES] = make_templates()
    app[DEVICE_CA] = device_ca or DeviceCa.ensure(config.state_dir, clock.now())
    entitlements_setup.setup(app, entitlements)
    app.router.add_get("/", start_page, name="start")
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_static("/static/", _STATIC, name="static")
    accounts.routes.setup(app)
    plant_routes.setup(app)
    telemetry_setup.setup(app)
    tunnel_routes.setup(app)
    remote_routes.setup(app)
    operator_routes.setup(app)
    shop.routes.setup(app)
    billing_routes.setup(app)
    wire(app)
    return app
