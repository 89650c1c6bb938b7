"""The add-on daemon: wires tunnel, dashboard and CCU event forwarding together.

One asyncio process::

    dashboard (aiohttp, listen_host:listen_port) ── behind the CCU's lighttpd
    enrolment (until a certificate exists) ── then the tunnel connector:
        streams → StreamSplicer (WebUI, allow-listed LAN targets)
        CONTROL → AddonState.handle_control (packages, cached on flash)
    XML-RPC callback server (loopback, any port) ← CCU events → TelemetryForwarder
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from ccu_addon.ccu import CcuJsonRpc
from ccu_addon.config import AddonConfig
from ccu_addon.dashboard import Dashboard, create_dashboard_app
from ccu_addon.events import CcuEventBridge
from ccu_addon.packages import PackageCache
from ccu_addon.selftest import CheckResult, run_selftest
from ccu_addon.status import AddonState
from ccu_addon.streams import StreamSplicer, TargetPolicy
from ccu_addon.telemetry import ConnectorTunnel, TelemetryForwarder
from tunnel.clock import Clock, SystemClock
from tunnel.connector import TunnelConnector, client_ssl_context
from tunnel.enrolment import DeviceIdentity, enrol, load_identity
from tunnel.frames import PROTOCOL_VERSIONS, Hello

__all__ = ["run_addon", "software_version"]

_LOGGER = logging.getLogger(__name__)


def software_version() -> str:
    """The installed version (the archive's VERSION file, else the package metadata)."""
    marker = Path(__file__).resolve().parents[2] / "VERSION"
    if marker.is_file():
        return marker.read_text(encoding="ascii").strip()
    # importlib.metadata (with zipfile, csv, importlib.resources) costs ~0.8 MB of RSS for
    # the rest of the daemon's life; on the hub the VERSION file answers without it.
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("cloudconnector")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0.0.0"


def _write_pid_file(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(f"{os.getpid()}\n", encoding="ascii")
    tmp.replace(path)


def _tunnel_url(gateway_url: str) -> str:
    parts = urlsplit(gateway_url)
    return f"wss://{parts.netloc}/tunnel/v1"


async def _serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, int(runner.addresses[0][1])


class _Daemon:
    def __init__(
        self,
        config: AddonConfig,
        clock: Clock,
        http: aiohttp.ClientSession,
        state: AddonState | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.http = http
        self.state = state or AddonState(PackageCache(config.state_dir))
        self.identity: DeviceIdentity | None = None
        self.forwarder = TelemetryForwarder(clock)
        self.splicer = StreamSplicer(
            TargetPolicy.from_config(config.ccu.webui_url, config.allowed_lan_targets)
        )

    async def selftest(self) -> list[CheckResult]:
        return await run_selftest(
            gateway_url=self.config.gateway.url,
            ca_file=self.config.gateway.ca_file,
            clock=self.clock,
            last_refusal=self.state.tunnel.status().last_refusal,
        )

    def dashboard(self) -> web.Application:
        return create_dashboard_app(
            Dashboard(
                state=self.state,
                sessions=CcuJsonRpc(self.http, self.config.ccu.jsonrpc_url),
                clock=self.clock,
                gateway_url=self.config.gateway.url,
                identity=lambda: self.identity,
                selftest=self.selftest,
                version=software_version(),
            )
        )

    async def tunnel(self) -> None:
        """Enrol if needed, then keep the tunnel up (forever)."""
        identity = self.identity
        assert identity is not None  # loaded before the tasks start
        if not identity.enrolled:
            identity = self.identity = await enrol(
                self.http,
                self.config.gateway.url,
                identity,
                kind="ccu",
                name="CCU",
                on_pairing_code=self.state.show_pairing_code,
            )
        ca = self.config.gateway.ca_file or identity.ca_path
        context: ssl.SSLContext = await asyncio.to_thread(
            client_ssl_context, ca, identity.cert_path, identity.key_path
        )
        connector = TunnelConnector(
            url=_tunnel_url(self.config.gateway.url),
            ssl_context=context,
            hello=Hello(
                versions=PROTOCOL_VERSIONS,
                capabilities=("telemetry",),
                software=f"ccu-addon/{software_version()}",
                device_kind="ccu",
            ),
            clock=self.clock,
            on_open=self.splicer,
            on_control=self.state.handle_control,
            stop_on_expired=True,
        )
        self.state.tunnel = ConnectorTunnel(connector)
        async with asyncio.TaskGroup() as group:
            group.create_task(connector.run(), name="tunnel-connector")
            group.create_task(self.forwarder.run(connector), name="telemetry-forwarder")


async def run_addon(
    config: AddonConfig,
    stop: asyncio.Event,
    *,
    pid_file: Path | None = None,
    clock: Clock | None = None,
    state: AddonState | None = None,
    on_dashboard: Callable[[int], None] | None = None,
) -> int:
    """Run until ``stop`` is set.

    ``state``: the hub's live state to use (pairing code, tunnel status), for a supervisor
    that runs add-ons in-process and watches them (``simulator fleet``); made here if unset.
    ``on_dashboard`` is told the dashboard's port once it listens (``listen_port = 0`` picks
    a free one), e.g. for ``simulator demo`` to mount it in the simulated CCU's WebUI.
    """
    clock = clock or SystemClock()
    config.state_dir.mkdir(parents=True, exist_ok=True)
    ca_file = config.gateway.ca_file
    trust = await asyncio.to_thread(
        ssl.create_default_context, cafile=str(ca_file) if ca_file else None
    )
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as http:
        daemon = _Daemon(config, clock, http, state)
        await asyncio.to_thread(daemon.state.cache.load)
        daemon.identity = await asyncio.to_thread(load_identity, config.state_dir)
        bridge = CcuEventBridge(
            http=http, interfaces=config.ccu.xmlrpc_urls, clock=clock, sink=daemon.forwarder
        )
        page, port = await _serve(daemon.dashboard(), config.listen_host, config.listen_port)
        callbacks, cb_port = await _serve(bridge.application(), "127.0.0.1", 0)
        bridge.callback_url = f"http://127.0.0.1:{cb_port}/"
        _LOGGER.info(
            "ccu-addon: dashboard on %s:%d; gateway %s",
            config.listen_host,
            port,
            config.gateway.url,
        )
        if on_dashboard is not None:
            on_dashboard(port)
        if pid_file is not None:
            _write_pid_file(pid_file)
        tasks = [
            asyncio.create_task(daemon.tunnel(), name="tunnel"),
            asyncio.create_task(bridge.run(), name="ccu-events"),
        ]
        stopping = asyncio.create_task(stop.wait(), name="stop")
        status = 0
        try:
            await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    _LOGGER.error(
                        "ccu-addon: %s failed", task.get_name(), exc_info=task.exception()
                    )
                    status = 1
        finally:
            stopping.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await bridge.unregister()
            await callbacks.cleanup()
            await page.cleanup()
            if pid_file is not None:
                pid_file.unlink(missing_ok=True)  # noqa: ASYNC240 - one tiny unlink at exit
    _LOGGER.info("ccu-addon stopped")
    return status
