"""The devices of ``simulator fleet``: real product daemons in this process, one state folder each.

* :class:`CcuMember` runs the add-on daemon itself (:func:`ccu_addon.app.run_addon`: dashboard
  server, XML-RPC event bridge, enrolment, tunnel connector, stream splicer, telemetry
  forwarder) against the fleet's shared :class:`~simulator.ccu.SimulatedCcu`. It hands the
  daemon an :class:`~ccu_addon.status.AddonState` of its own to watch the pairing code and
  the tunnel.
* :class:`AgentMember` runs the agent (:class:`inverter_agent.agent.Agent`: buses, schedulers,
  outbox, uplink) against the fleet's shared simulated Modbus TCP inverters. Its channel is
  the agent's own tunnel, assembled here from the same public parts the agent's
  ``EnrollingLink`` uses (:func:`tunnel.enrolment.enrol`, then
  :meth:`~inverter_agent.tunnel_link.TunnelLink.from_config`), so that the fleet can watch
  the :class:`~tunnel.connector.TunnelConnector`.

Both tell the fleet a pairing code through ``on_pairing_code`` (``None`` withdraws it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from ccu_addon.app import run_addon
from ccu_addon.config import AddonConfig, CcuConfig
from ccu_addon.config import GatewayLink as AddonGatewayLink
from ccu_addon.packages import PackageCache
from ccu_addon.status import AddonState
from ccu_addon.telemetry import ConnectorTunnel
from inverter_agent.agent import Agent
from inverter_agent.config import AgentConfig, BusConfig, BusKind
from inverter_agent.config import GatewayLink as AgentGatewayLink
from inverter_agent.enrol import DEVICE_KIND
from inverter_agent.tunnel_link import SessionChannel, TunnelLink
from simulator.ccu import InterfaceName, SimulatedCcu
from tunnel.clock import Clock
from tunnel.connector import TunnelConnector
from tunnel.enrolment import enrol, load_identity

__all__ = ["AgentMember", "CcuMember", "CodeSink", "Member"]

CodeSink = Callable[["Member", str | None], None]
"""Told each pairing code a member shows (``None``: it no longer shows one)."""


class Member(Protocol):
    """One device of the fleet, as the fleet watches it."""

    index: int
    state_dir: Path

    @property
    def connector(self) -> TunnelConnector | None:
        """The tunnel connector, once the device is enrolled and connecting."""
        ...

    async def run(self, halt: asyncio.Event) -> None:
        """Run the device until ``halt`` is set."""
        ...


class _WatchedState(AddonState):
    """The add-on's live state, also telling the fleet about pairing codes."""

    def __init__(self, cache: PackageCache, on_code: Callable[[str | None], None]) -> None:
        super().__init__(cache)
        self._on_code = on_code

    def show_pairing_code(self, code: str | None) -> None:
        super().show_pairing_code(code)
        self._on_code(code)


class CcuMember:
    """A CCU add-on daemon against the shared simulated CCU."""

    def __init__(
        self,
        index: int,
        state_dir: Path,
        *,
        gateway_url: str,
        ca_file: Path | None,
        ccu: SimulatedCcu,
        clock: Clock,
        on_code: CodeSink,
    ) -> None:
        self.index = index
        self.state_dir = state_dir
        self._clock = clock
        self.config = AddonConfig(
            state_dir=state_dir,
            listen_port=0,
            gateway=AddonGatewayLink(url=gateway_url, ca_file=ca_file),
            ccu=replace(
                CcuConfig(),
                webui_url=ccu.webui_url + "/",
                jsonrpc_url=f"{ccu.webui_url}/api/homematic.cgi",
                xmlrpc_urls=(ccu.xmlrpc_url(InterfaceName.HMIP_RF),),
            ),
        )
        self.state = _WatchedState(PackageCache(state_dir), lambda code: on_code(self, code))

    @property
    def connector(self) -> TunnelConnector | None:
        tunnel = self.state.tunnel
        return tunnel.connector if isinstance(tunnel, ConnectorTunnel) else None

    async def run(self, halt: asyncio.Event) -> None:
        await run_addon(self.config, halt, clock=self._clock, state=self.state)


class _AgentTunnel:
    """The agent's channel source: enrol when needed, then the agent's :class:`TunnelLink`."""

    def __init__(self, config: AgentConfig, clock: Clock, on_code: Callable[[str | None], None]):
        self._config = config
        self._clock = clock
        self._on_code = on_code
        self.on_control: Callable[[Mapping[str, Any]], Any] | None = None
        self.link: TunnelLink | None = None
        self._ready = asyncio.Event()

    async def _control(self, body: Mapping[str, Any]) -> None:
        if self.on_control is not None:
            await self.on_control(body)

    async def run(self) -> None:
        gateway, state_dir = self._config.gateway, self._config.state_dir
        identity = await asyncio.to_thread(load_identity, state_dir)
        if not identity.enrolled:
            await enrol(
                gateway.url,
                identity,
                ca_file=gateway.ca_file,
                kind=DEVICE_KIND,
                name=gateway.device_name,
                on_pairing_code=self._on_code,
            )
        self.link = await asyncio.to_thread(
            TunnelLink.from_config, gateway, state_dir, clock=self._clock, on_control=self._control
        )
        self._ready.set()
        await self.link.run()

    async def wait_channel(self) -> SessionChannel:
        await self._ready.wait()
        assert self.link is not None  # set before _ready
        return await self.link.wait_channel()


class AgentMember:
    """An inverter agent against the shared simulated Modbus TCP inverters."""

    def __init__(
        self,
        index: int,
        state_dir: Path,
        *,
        gateway_url: str,
        ca_file: Path | None,
        modbus: tuple[str, int],
        unit_ids: tuple[int, ...],
        clock: Clock,
        on_code: CodeSink,
    ) -> None:
        self.index = index
        self.state_dir = state_dir
        host, port = modbus
        self.config = AgentConfig(
            state_dir=state_dir,
            gateway=AgentGatewayLink(
                url=gateway_url, ca_file=ca_file, device_name=f"Fleet-Agent {index + 1}"
            ),
            buses=(BusConfig(kind=BusKind.TCP, host=host, port=port, unit_ids=unit_ids),),
        )
        self._clock = clock
        self._tunnel = _AgentTunnel(self.config, clock, lambda code: on_code(self, code))

    @property
    def connector(self) -> TunnelConnector | None:
        link = self._tunnel.link
        return link.connector if link is not None else None

    async def run(self, halt: asyncio.Event) -> None:
        await asyncio.to_thread(self.state_dir.mkdir, parents=True, exist_ok=True)
        agent = Agent(self.config, clock=self._clock, channels=self._tunnel)
        self._tunnel.on_control = agent.handle_control
        tunnel = asyncio.create_task(self._tunnel.run(), name=f"agent {self.index} tunnel")
        try:
            await agent.run(halt)
        finally:
            link = self._tunnel.link
            if link is not None:
                await link.stop()
            tunnel.cancel()
            await asyncio.gather(tunnel, return_exceptions=True)
