"""The add-on daemon: wires tunnel, dashboard and CCU event forwarding together.

One asyncio process::

    dashboard (HttpServer, listen_host:listen_port) ── behind the CCU's lighttpd
    enrolment (until a certificate exists) ── then the tunnel connector:
        streams → StreamSplicer (WebUI, allow-listed LAN targets)
        CONTROL → AddonState.handle_control (packages, cached on flash)
    XML-RPC callback server (loopback, any port) ← CCU events → TelemetryForwarder

Memory: the enrolled daemon imports neither ``aiohttp`` nor ``cryptography``. Its two page
servers and its HTTP requests (CCU JSON-RPC and XML-RPC, the self-test) are the add-on's own
small HTTP/1.1 layer on ``h11`` (:mod:`ccu_addon.httpserver`, :mod:`tunnel.httpclient`);
key and certificate are read with the standard library (:mod:`ccu_addon.identity`).
Enrolment needs ``cryptography`` (and :mod:`tunnel.enrolment` its HTTP client); so the
command-line daemon, once enrolled, starts afresh (``restart_after_enrolment``:
:func:`run_addon` ends with :data:`EXIT_RESTART` and the CLI ``exec``s itself, same pid) and
runs from then on without them.

Shutdown: the connector is stopped first (:meth:`TunnelConnector.stop`: the session ends in
order and the WebSocket is closed, so the gateway records a clean close), then the tasks are
cancelled, the CCU registrations withdrawn and the servers closed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import ssl
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from ccu_addon.ccu import CcuJsonRpc
from ccu_addon.config import AddonConfig
from ccu_addon.dashboard import MAX_FORM_BODY, Dashboard, dashboard_routes
from ccu_addon.events import MAX_CALLBACK_BODY, CcuEventBridge
from ccu_addon.httpserver import HttpServer, Router
from ccu_addon.identity import HubIdentity, load_hub_identity
from ccu_addon.packages import PackageCache
from ccu_addon.selftest import CheckResult, run_selftest
from ccu_addon.status import AddonState
from ccu_addon.streams import (
    LAN_TARGETS_CONTROL,
    StreamSplicer,
    TargetPolicy,
    TargetRefusedError,
    managed_targets,
)
from ccu_addon.telemetry import ConnectorTunnel, TelemetryForwarder
from tunnel.clock import Clock, SystemClock
from tunnel.connector import ConnectorState, TunnelConnector, client_ssl_context
from tunnel.frames import PROTOCOL_VERSIONS, Hello

__all__ = ["EXIT_RESTART", "run_addon", "software_version"]

_LOGGER = logging.getLogger(__name__)

EXIT_RESTART: Final = 75
""":func:`run_addon`'s status after a first enrolment with ``restart_after_enrolment``."""
_STOP_TIMEOUT: Final = 5.0
"""Seconds the tunnel gets to close in order at shutdown."""


@functools.cache
def software_version() -> str:
    """The installed version: the archive's VERSION file, a source tree's pyproject.toml, or
    the package metadata (in that order)."""
    here = Path(__file__).resolve()
    marker = here.parents[2] / "VERSION"
    if marker.is_file():
        return marker.read_text(encoding="ascii").strip()
    project = here.parents[1] / "pyproject.toml"
    if project.is_file():  # a source tree (tests, benchmarks): tomllib is loaded already
        data = tomllib.loads(project.read_text(encoding="utf-8"))
        return str(data["project"]["version"])
    # importlib.metadata (with zipfile, csv, importlib.resources) costs ~0.8 MB of RSS for
    # the rest of the daemon's life; on the hub the VERSION file answers without it.
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("cloudconnector")
    except PackageNotFoundError:  # pragma: no cover - a copy without any of the three
        return "0.0.0"


def _write_pid_file(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(f"{os.getpid()}\n", encoding="ascii")
    tmp.replace(path)


def _tunnel_url(gateway_url: str) -> str:
    parts = urlsplit(gateway_url)
    return f"wss://{parts.netloc}/tunnel/v1"


class _Daemon:
    def __init__(
        self,
        config: AddonConfig,
        clock: Clock,
        state: AddonState | None = None,
        *,
        restart_after_enrolment: bool = False,
    ) -> None:
        self.config = config
        self.clock = clock
        self.state = state or AddonState(PackageCache(config.state_dir))
        self.identity: HubIdentity | None = None
        self.connector: TunnelConnector | None = None
        self.restart_after_enrolment = restart_after_enrolment
        self.restart = False
        """Set when the tunnel task ended because enrolment completed (and a restart is due)."""
        self.forwarder = TelemetryForwarder(clock)
        self.configured_targets = TargetPolicy.from_config(
            config.ccu.webui_url, config.allowed_lan_targets
        )
        self.splicer = StreamSplicer(self.configured_targets)

    async def selftest(self) -> list[CheckResult]:
        return await run_selftest(
            gateway_url=self.config.gateway.url,
            ca_file=self.config.gateway.ca_file,
            clock=self.clock,
            last_refusal=self.state.tunnel.status().last_refusal,
        )

    def dashboard(self) -> Router:
        return dashboard_routes(
            Dashboard(
                state=self.state,
                sessions=CcuJsonRpc(self.config.ccu.jsonrpc_url),
                clock=self.clock,
                gateway_url=self.config.gateway.url,
                identity=lambda: self.identity,
                selftest=self.selftest,
                version=software_version(),
            )
        )

    async def enrol(self) -> HubIdentity:
        """Pair with the gateway (showing the code on the dashboard) until a certificate is kept."""
        # tunnel.enrolment imports cryptography: only a hub that is not enrolled pays for it.
        from tunnel.enrolment import enrol, load_identity  # noqa: PLC0415

        pending = await asyncio.to_thread(load_identity, self.config.state_dir)
        if not pending.enrolled:
            await enrol(
                self.config.gateway.url,
                pending,
                ca_file=self.config.gateway.ca_file,
                kind="ccu",
                name="CCU",
                on_pairing_code=self.state.show_pairing_code,
            )
        identity = await asyncio.to_thread(load_hub_identity, self.config.state_dir)
        if identity is None:  # pragma: no cover - enrol() returns only once both files exist
            raise RuntimeError("enrolment ended without a certificate")
        return identity

    async def tunnel(self) -> None:
        """Enrol if needed, then keep the tunnel up (until stopped)."""
        identity = self.identity
        if identity is None:
            identity = self.identity = await self.enrol()
            if self.restart_after_enrolment:
                _LOGGER.info("ccu-addon: enrolled as %s; restarting", identity.slug)
                self.restart = True
                return
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
            on_control=self.handle_control,
            stop_on_expired=True,
        )
        self.connector = connector
        self.state.tunnel = ConnectorTunnel(connector)
        async with asyncio.TaskGroup() as group:
            forwarder = group.create_task(self.forwarder.run(connector), name="telemetry-forwarder")
            await connector.run()  # until stop_tunnel()
            forwarder.cancel()

    async def handle_control(self, body: Mapping[str, Any]) -> None:
        """CONTROL from the gateway: LAN targets here, everything else to the add-on state."""
        if body.get("type") != LAN_TARGETS_CONTROL:
            await self.state.handle_control(body)
            return
        try:
            managed = managed_targets(dict(body))
        except TargetRefusedError as exc:
            _LOGGER.warning("ignoring a lan_targets message: %s", exc.detail)
            return
        self.splicer.policy = self.configured_targets.with_managed(managed)
        _LOGGER.info("LAN targets from the portal: %d", len(managed))

    async def stop_tunnel(self) -> None:
        """Close the tunnel in order (the gateway sees a clean WebSocket close)."""
        connector = self.connector
        if connector is None:
            return
        try:
            async with asyncio.timeout(_STOP_TIMEOUT):
                await connector.stop()
                await connector.wait_state(ConnectorState.STOPPED)
        except TimeoutError:
            _LOGGER.warning("ccu-addon: the tunnel did not close in %.0f s", _STOP_TIMEOUT)


async def run_addon(
    config: AddonConfig,
    stop: asyncio.Event,
    *,
    pid_file: Path | None = None,
    clock: Clock | None = None,
    state: AddonState | None = None,
    on_dashboard: Callable[[int], None] | None = None,
    restart_after_enrolment: bool = False,
) -> int:
    """Run until ``stop`` is set; the exit status.

    ``restart_after_enrolment``: end with :data:`EXIT_RESTART` as soon as a first enrolment
    completed, for the caller to start the daemon afresh (the CLI ``exec``s itself), so that
    the long-running process never carries the enrolment's ``cryptography`` import.

    ``state``: the hub's live state to use (pairing code, tunnel status), for a supervisor
    that runs add-ons in-process and watches them (``simulator fleet``); made here if unset.
    ``on_dashboard`` is told the dashboard's port once it listens (``listen_port = 0`` picks
    a free one), e.g. for ``simulator demo`` to mount it in the simulated CCU's WebUI.
    """
    clock = clock or SystemClock()
    config.state_dir.mkdir(parents=True, exist_ok=True)
    daemon = _Daemon(config, clock, state, restart_after_enrolment=restart_after_enrolment)
    await asyncio.to_thread(daemon.state.cache.load)
    daemon.identity = await asyncio.to_thread(load_hub_identity, config.state_dir)
    bridge = CcuEventBridge(interfaces=config.ccu.xmlrpc_urls, clock=clock, sink=daemon.forwarder)
    page = HttpServer(daemon.dashboard(), max_body=MAX_FORM_BODY, name="dashboard")
    callbacks = HttpServer(bridge.routes(), max_body=MAX_CALLBACK_BODY, name="ccu-callbacks")
    tasks: list[asyncio.Task[None]] = []
    status = 0
    try:
        port = await page.start(config.listen_host, config.listen_port)
        bridge.callback_url = f"http://127.0.0.1:{await callbacks.start('127.0.0.1', 0)}/"
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
        tasks += [
            asyncio.create_task(daemon.tunnel(), name="tunnel"),
            asyncio.create_task(bridge.run(), name="ccu-events"),
        ]
        stopping = asyncio.create_task(stop.wait(), name="stop")
        try:
            await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                _LOGGER.error("ccu-addon: %s failed", task.get_name(), exc_info=task.exception())
                status = 1
        if daemon.restart:
            status = EXIT_RESTART
    finally:
        await daemon.stop_tunnel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if tasks:
            await bridge.unregister()
        await callbacks.close()
        await page.close()
        if pid_file is not None and status != EXIT_RESTART:  # the same pid runs on
            pid_file.unlink(missing_ok=True)  # noqa: ASYNC240 - one tiny unlink at exit
    _LOGGER.info("ccu-addon stopped")
    return status
