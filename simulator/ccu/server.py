"""The simulated CCU as one object: three servers, the devices, and a test-facing API.

::

    ccu = SimulatedCcu(CcuConfig(seed=7), clock=clock)
    await ccu.start()                    # binds the WebUI, BidCos-RF and HmIP-RF ports
    ccu.webui_url, ccu.xmlrpc_url(InterfaceName.HMIP_RF)
    ccu.set_value("000A18A9A64DAD:1", "ACTUAL_TEMPERATURE", 19.5)   # sends events
    ccu.tick()                           # live behaviour for the time the clock moved
    await ccu.restart()                  # same ports; registrations and sessions are lost
    await ccu.stop()
"""

from __future__ import annotations

import logging
import socket
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from simulator.ccu import behaviour
from simulator.ccu.callbacks import CallbackHub
from simulator.ccu.catalog import InterfaceName
from simulator.ccu.config import CcuConfig, Clock, MonotonicClock
from simulator.ccu.devices import DeviceStore, ValueChange
from simulator.ccu.jsonrpc import JsonRpcApi
from simulator.ccu.sessions import SessionStore
from simulator.ccu.webui import WebUi
from simulator.ccu.xmlrpc_api import XmlRpcInterface

__all__ = ["SimulatedCcu"]

_LOGGER = logging.getLogger(__name__)
_WEBUI = "webui"


class SimulatedCcu:
    """A HomeMatic CCU on loopback: WebUI + JSON-RPC, and one XML-RPC server per interface."""

    def __init__(self, config: CcuConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config or CcuConfig()
        self.clock: Clock = clock or MonotonicClock()
        devices = ((device.address, device.type) for device in self.config.devices)
        self.store = DeviceStore(devices, seed=self.config.seed)
        behaviour.initialise(self.store)
        self.sessions = SessionStore(
            self.clock,
            username=self.config.username,
            password=self.config.password,
            timeout=self.config.session_timeout,
        )
        self._ports: dict[str, int] = {
            _WEBUI: self.config.webui_port,
            InterfaceName.BIDCOS_RF: self.config.bidcos_port,
            InterfaceName.HMIP_RF: self.config.hmip_port,
        }
        self._runners: list[web.AppRunner] = []
        self._http: aiohttp.ClientSession | None = None
        self._hubs: dict[InterfaceName, CallbackHub] = {}
        self._last_tick = self.clock.monotonic()
        self.api = JsonRpcApi(self.config, self.store, self.sessions, self._rpc_ports, self._emit)
        self.webui = WebUi(self.config, self.store, self.sessions, self.api, self._client)

    # -- life cycle ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self._runners)

    async def start(self) -> None:
        """Bind all three servers; ports chosen on the first start are kept for restarts."""
        if self.running:
            raise RuntimeError("the simulated CCU is already running")
        self._http = aiohttp.ClientSession(auto_decompress=False)
        try:
            await self._serve(_WEBUI, self.webui.application())
            for name in InterfaceName:
                hub = CallbackHub(
                    name,
                    self._http,
                    lambda name=name: self.store.descriptions(name),  # type: ignore[misc]
                    failure_limit=self.config.callback_failure_limit,
                )
                self._hubs[name] = hub
                await self._serve(
                    name, XmlRpcInterface(name, self.store, hub, self._emit).application()
                )
        except BaseException:
            await self.stop()
            raise
        _LOGGER.info("simulated CCU %s listening on %s", self.config.serial, self.ports)

    async def _serve(self, key: str, app: web.Application) -> None:
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        self._runners.append(runner)
        sock = socket.socket(socket.AF_INET6 if ":" in self.config.host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.config.host, self._ports[key]))
            self._ports[key] = sock.getsockname()[1]
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            raise

    async def stop(self) -> None:
        """Close every server and callback delivery; sessions and registrations are lost."""
        hubs, self._hubs = list(self._hubs.values()), {}
        for hub in hubs:
            await hub.close()
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            await runner.cleanup()
        if self._http is not None:
            await self._http.close()
            self._http = None
        self.sessions.clear()

    async def restart(self) -> None:
        """Stop and start again on the same ports, like a rebooted CCU."""
        await self.stop()
        await self.start()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- where to reach it ---------------------------------------------------------------

    @property
    def ports(self) -> dict[str, int]:
        """``{"webui": …, "BidCos-RF": …, "HmIP-RF": …}``."""
        return {str(key): port for key, port in self._ports.items()}

    @property
    def webui_port(self) -> int:
        return self._ports[_WEBUI]

    @property
    def bidcos_port(self) -> int:
        return self._ports[InterfaceName.BIDCOS_RF]

    @property
    def hmip_port(self) -> int:
        return self._ports[InterfaceName.HMIP_RF]

    @property
    def webui_url(self) -> str:
        return f"http://{self._url_host}:{self.webui_port}"

    def xmlrpc_url(self, interface: InterfaceName) -> str:
        return f"http://{self._url_host}:{self._ports[interface]}/"

    @property
    def _url_host(self) -> str:
        return f"[{self.config.host}]" if ":" in self.config.host else self.config.host

    def _rpc_ports(self) -> dict[InterfaceName, int]:
        return {name: self._ports[name] for name in InterfaceName}

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise RuntimeError("the simulated CCU is not running")
        return self._http

    # -- what a test (or the demo) does to the devices -----------------------------------

    def set_value(self, address: str, key: str, value: Any) -> list[ValueChange]:
        """Set any ``VALUES`` parameter as if the device reported it; sends the events."""
        changes = self.store.force(address, key, value)
        self._emit(changes)
        return changes

    def get_value(self, address: str, key: str) -> Any:
        return self.store.get_value(address, key)

    def tick(self, seconds: float | None = None) -> list[ValueChange]:
        """Advance live behaviour by ``seconds`` (default: since the last tick, on the clock)."""
        now = self.clock.monotonic()
        if seconds is None:
            seconds = max(now - self._last_tick, 0.0)
        self._last_tick = now
        changes = behaviour.step(self.store, seconds)
        self._emit(changes)
        return changes

    def pair(self, address: str, model_type: str) -> None:
        """Pair a new device; registered clients get ``newDevices``."""
        descriptions = self.store.add(address, model_type)
        hub = self._hubs.get(self.store.interface_of(address))
        if hub is not None:
            hub.announce(descriptions)

    def registrations(self, interface: InterfaceName) -> dict[str, str]:
        """Interface id → callback URL of the live ``init`` registrations."""
        hub = self._hubs.get(interface)
        return hub.registrations if hub else {}

    def mount_addon(self, addon_id: str, target_url: str) -> None:
        """Serve ``/addons/<addon_id>/…`` by proxying to ``target_url``."""
        self.webui.addons[addon_id] = target_url

    def unmount_addon(self, addon_id: str) -> None:
        self.webui.addons.pop(addon_id, None)

    def _emit(self, changes: list[ValueChange]) -> None:
        for hub in self._hubs.values():
            hub.publish(changes)
