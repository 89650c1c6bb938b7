"""The whole agent: buses, inverters, schedulers, outbox, uplink, local MQTT, CONTROL.

::

    AgentConfig ─► ModbusBus per [[buses]] ─► SunSpecInverter per unit id
                   BusRunner per bus: BusScheduler cycles ─► CycleSink
    CycleSink: one outbox entry per bus cycle (commit) ─► Uplink.notify() ─► LocalMqtt.publish()
    Uplink: outbox ─► TELEMETRY(seq) ─► ACK(seq) ─► delete       (channel: the tunnel)
    EnrollingLink: no certificate yet ─► pairing code (logged) ─► certificate ─► tunnel
    CONTROL ─► resend_configuration: forget + poll now ─► fresh "info"
               config_update: new poll interval from the next cycle on

:meth:`Agent.run` opens everything, runs one named task per bus plus the uplink (and the
tunnel connector) in a ``TaskGroup`` until ``stop`` is set, then stops the pollers first, the
uplink and tunnel next and closes outbox, buses and MQTT last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from inverter_agent.bus import ModbusBus
from inverter_agent.config import AgentConfig
from inverter_agent.control import ConfigUpdate, ResendConfiguration, parse_control
from inverter_agent.enrol import EnrollingLink
from inverter_agent.local_mqtt import LocalMqtt
from inverter_agent.outbox import Outbox
from inverter_agent.readings import InverterInfo, Reading, encode_payload
from inverter_agent.runner import BusRunner
from inverter_agent.scheduler import InverterHealth
from inverter_agent.uplink import ChannelSource, Uplink
from tunnel.clock import Clock
from tunnel.enrolment import PairingCodeSink

__all__ = ["OUTBOX_FILE", "Agent", "CycleSink", "encode_batch"]

_LOGGER = logging.getLogger(__name__)

OUTBOX_FILE = "outbox.sqlite3"


def encode_batch(payloads: Sequence[Reading | InverterInfo]) -> bytes:
    """One outbox entry: the JSON array of a cycle's payloads (docs/telemetry.md)."""
    return b"[" + b",".join(encode_payload(p) for p in payloads) + b"]"


class CycleSink:
    """The schedulers' sink: commit a cycle as one entry, then wake the uplink and MQTT."""

    def __init__(
        self, outbox: Outbox, *, uplink: Uplink | None, mqtt: LocalMqtt | None = None
    ) -> None:
        self._outbox = outbox
        self._uplink = uplink
        self._mqtt = mqtt
        self.last_seq = 0
        """Sequence number of the newest entry."""

    async def store(self, payloads: Sequence[Reading | InverterInfo]) -> None:
        self.last_seq = await self._outbox.append(encode_batch(payloads))
        if self._uplink is not None:
            self._uplink.notify()
        if self._mqtt is not None:
            self._mqtt.publish(payloads)


class Agent:
    """Everything ``inverter-agent run`` runs; build it, then ``await run(stop)``."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        clock: Clock,
        channels: ChannelSource | None = None,
        on_pairing_code: PairingCodeSink | None = None,
    ) -> None:
        """``channels``: where TELEMETRY goes; by default the tunnel, after enrolment if the
        state folder holds no certificate yet (``on_pairing_code`` is told the code to enter
        in the portal; it is logged as well)."""
        self.config = config
        self._clock = clock
        self._channels = channels
        self._on_pairing_code = on_pairing_code
        self.runners: list[BusRunner] = []
        self.outbox: Outbox | None = None
        self.uplink: Uplink | None = None
        self.sink: CycleSink | None = None
        self.mqtt: LocalMqtt | None = None
        self.link: EnrollingLink | None = None
        self.started = asyncio.Event()
        """Set once everything is open and the tasks run."""

    def health(self) -> tuple[InverterHealth, ...]:
        """The state of every inverter on every bus."""
        return tuple(h for runner in self.runners for h in runner.health())

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set."""
        config = self.config
        async with contextlib.AsyncExitStack() as stack:
            path = config.state_dir / OUTBOX_FILE
            outbox = await Outbox.open(path, max_readings=config.outbox_max_readings)
            stack.push_async_callback(outbox.close)
            self.outbox = outbox
            channels = self._channels or await self._tunnel()
            if channels is not None:
                max_in_flight = config.gateway.max_in_flight
                self.uplink = Uplink(outbox, channels, max_in_flight=max_in_flight)
            if config.local_mqtt.enabled:
                self.mqtt = LocalMqtt(config.local_mqtt)
                await self.mqtt.start()
                stack.push_async_callback(self.mqtt.close)
            self.sink = CycleSink(outbox, uplink=self.uplink, mqtt=self.mqtt)
            for bus_config in config.buses:
                bus = ModbusBus.from_config(bus_config)
                stack.push_async_callback(bus.close)
                self.runners.append(BusRunner(bus_config, bus, self.sink, self._clock))
            await self._serve(stop)

    async def _serve(self, stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as group:
            polling = [group.create_task(r.run(), name=f"bus {r.name}") for r in self.runners]
            sending = []
            if self.uplink is not None:
                sending.append(group.create_task(self.uplink.run(), name="uplink"))
            if self.link is not None:
                group.create_task(self.link.run(), name="tunnel")
            _LOGGER.info(
                "inverter-agent running: %d bus(es), %d inverter(s), uplink %s, local MQTT %s",
                len(self.runners),
                sum(len(r.pollers) for r in self.runners),
                "on" if self.uplink else "off",
                "on" if self.mqtt else "off",
            )
            self.started.set()
            await stop.wait()
            _LOGGER.info("inverter-agent stopping")
            for task in polling + sending:
                task.cancel()
            if self.link is not None:
                await self.link.stop()

    async def _tunnel(self) -> EnrollingLink | None:
        config = self.config
        if not config.gateway.enabled:
            _LOGGER.info("uplink disabled: readings stay in the outbox")
            return None
        self.link = EnrollingLink(
            config.gateway,
            config.state_dir,
            clock=self._clock,
            on_control=self.handle_control,
            on_pairing_code=self._on_pairing_code,
        )
        return self.link

    async def handle_control(self, body: Mapping[str, Any]) -> None:
        """A CONTROL message from the gateway (the tunnel's ``on_control``)."""
        try:
            request = parse_control(body)
        except ValueError as exc:
            _LOGGER.warning("CONTROL ignored: %s", exc)
            return
        if isinstance(request, ResendConfiguration):
            count = sum(runner.rediscover(request) for runner in self.runners)
            _LOGGER.info("CONTROL: resending the configuration of %d inverter(s)", count)
        elif isinstance(request, ConfigUpdate) and request.poll_interval_s is not None:
            for runner in self.runners:
                runner.set_interval(request.poll_interval_s)
            _LOGGER.info("CONTROL: poll interval now %.1f s", request.poll_interval_s)
        else:
            _LOGGER.debug("CONTROL %s: nothing for the agent", body.get("type"))
