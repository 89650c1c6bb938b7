"""Running the gateway: TLS material, store, migrations, HTTPS listener."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from dataclasses import dataclass

from aiohttp import web

from cloud_gateway.app import create_app
from cloud_gateway.config import GatewayConfig
from cloud_gateway.entitlements.api import DeviceEntitlementPolicy
from cloud_gateway.http.keys import DRAIN
from cloud_gateway.proxy_site import ProxyProtocolSite
from cloud_gateway.store import Store
from cloud_gateway.tls import ServerTls, ensure_server_tls, server_ssl_context
from cloud_gateway.tls_budget import TlsBudget, TlsBudgetLimits
from cloud_gateway.tls_site import TlsSite
from cloud_gateway.tunnels.device_ca import DeviceCa
from tunnel.cliutil import prepare_tunnel_end
from tunnel.clock import Clock

__all__ = ["RunningGateway", "start_gateway"]

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True, kw_only=True)
class RunningGateway:
    """A started gateway; :meth:`stop` shuts it down."""

    runner: web.AppRunner
    store: Store
    tls: ServerTls
    device_ca: DeviceCa
    port: int
    public_host: str
    tls_budget: TlsBudget
    """The node's TLS handshake budget (ADR 0032; its counters are in ``/metrics``)."""

    @property
    def url(self) -> str:
        """The portal's base URL."""
        return f"https://{self.public_host}:{self.port}/"

    async def drain(self) -> int:
        """Drain the node (ADR 0020): out of the balancer, devices sent elsewhere."""
        return await self.runner.app[DRAIN].run()

    async def stop(self) -> None:
        """Close the listener and the store."""
        await self.runner.cleanup()
        await self.store.close()


async def start_gateway(
    config: GatewayConfig, clock: Clock, *, entitlements: DeviceEntitlementPolicy | None = None
) -> RunningGateway:
    """Create TLS material when needed, migrate the store and listen on HTTPS."""
    if config.tls.cert_file and config.tls.key_file:
        tls = ServerTls(ca_cert=None, cert=config.tls.cert_file, key=config.tls.key_file)
    else:
        tls = await asyncio.to_thread(
            ensure_server_tls,
            config.state_dir,
            config.http.public_host,
            clock.now(),
            config.remote_domain,
        )
    device_ca = await asyncio.to_thread(DeviceCa.ensure, config.state_dir, clock.now())
    store = await Store.open(config.database_url)
    budget = TlsBudget(TlsBudgetLimits.of(config.http))  # one per node, before TLS (ADR 0032)
    try:
        app = create_app(
            config,
            store,
            clock,
            device_ca=device_ca,
            entitlements=entitlements,
            tls_budget=budget,
        )
    except BaseException:  # e.g. a ConfigError: no open connections left behind
        await store.close()
        raise
    runner = web.AppRunner(app, access_log=None)
    sock: socket.socket | None = None
    try:
        await runner.setup()
        sock = socket.create_server((config.http.host, config.http.port), reuse_port=False)
        ssl_context = server_ssl_context(tls)
        # Browsers come without a certificate; /tunnel/v1 insists on one from the device CA.
        ssl_context.verify_mode = ssl.CERT_OPTIONAL
        ssl_context.load_verify_locations(cafile=device_ca.cert_path)
        # Thousands of idle tunnels: no 256 KiB TLS read buffer per connection (ADR 0007);
        # bulk buffers from a heap that keeps its pages (tunnel/heap.py).
        prepare_tunnel_end()
        http = config.http
        site_type = ProxyProtocolSite if http.proxy_protocol else TlsSite  # behind HAProxy:
        site: TlsSite = site_type(  # the PROXY header names the real client
            runner,
            sock,
            ssl_context=ssl_context,
            budget=budget,
            backlog=http.listen_backlog,
            tls_close_timeout_s=http.tls_close_timeout_s,
            tls_handshake_timeout_s=http.tls_handshake_timeout_s,
        )
        await site.start()
    except BaseException:  # e.g. the port is taken: stop what started, close the store
        if sock is not None:
            sock.close()
        await runner.cleanup()
        await store.close()
        raise
    port = sock.getsockname()[1]
    _LOGGER.info("gateway listening on https://%s:%d/", config.http.host, port)
    return RunningGateway(
        runner=runner,
        store=store,
        tls=tls,
        device_ca=device_ca,
        port=port,
        public_host=config.http.public_host,
        tls_budget=budget,
    )
