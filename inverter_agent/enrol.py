"""The agent's tunnel when it has no certificate yet: enrol first, then connect.

:class:`EnrollingLink` is a :class:`~inverter_agent.uplink.ChannelSource` like
:class:`~inverter_agent.tunnel_link.TunnelLink`. Its :meth:`~EnrollingLink.run` makes the key
(once), asks the gateway for a pairing code with the shared client of
:mod:`tunnel.enrolment`, logs the code (and hands it to ``on_pairing_code``) until the owner
has entered it in the portal, stores the certificate and then runs the ordinary
:class:`~inverter_agent.tunnel_link.TunnelLink`. Meanwhile the buses are polled and readings
collect in the outbox; the uplink's first :meth:`~EnrollingLink.wait_channel` simply waits.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from inverter_agent.config import GatewayLink
from inverter_agent.tunnel_link import SessionChannel, TunnelLink
from tunnel.clock import Clock
from tunnel.enrolment import PairingCodeSink, enrol, load_identity
from tunnel.session import ControlHandler

__all__ = ["DEVICE_KIND", "EnrollingLink"]

_LOGGER = logging.getLogger(__name__)

DEVICE_KIND = "inverter_agent"
"""The gateway's device kind of an inverter agent."""


class EnrollingLink:
    """Enrolment, then the reconnecting tunnel; a ChannelSource throughout."""

    def __init__(
        self,
        gateway: GatewayLink,
        state_dir: Path,
        *,
        clock: Clock,
        on_control: ControlHandler,
        on_pairing_code: PairingCodeSink | None = None,
        retry_delay: float = 30.0,
    ) -> None:
        self._gateway = gateway
        self._state_dir = state_dir
        self._clock = clock
        self._on_control = on_control
        self._on_pairing_code = on_pairing_code
        self._retry_delay = retry_delay
        self._link: TunnelLink | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.pairing_code: str | None = None
        """The code to enter in the portal while enrolment waits for the owner."""

    def _show(self, code: str | None) -> None:
        self.pairing_code = code
        if code is not None:
            _LOGGER.info(
                "pairing code %s: enter it at %s/portal/devices/pair",
                code,
                self._gateway.url.rstrip("/"),
            )
        if self._on_pairing_code is not None:
            self._on_pairing_code(code)

    async def _enrol(self) -> None:
        identity = await asyncio.to_thread(load_identity, self._state_dir)
        if identity.enrolled:
            return
        await enrol(
            self._gateway.url,
            identity,
            ca_file=self._gateway.ca_file,
            kind=DEVICE_KIND,
            name=self._gateway.device_name,
            on_pairing_code=self._show,
            retry_delay=self._retry_delay,
        )

    async def run(self) -> None:
        """Enrol when needed, then connect and reconnect until :meth:`stop`."""
        self._task = asyncio.current_task()
        await self._enrol()
        self._link = await asyncio.to_thread(
            TunnelLink.from_config,
            self._gateway,
            self._state_dir,
            clock=self._clock,
            on_control=self._on_control,
        )
        self._ready.set()
        await self._link.run()

    async def stop(self) -> None:
        """End enrolment (cancelled) or the tunnel (closed cleanly)."""
        if self._link is not None:
            await self._link.stop()
        elif self._task is not None:
            self._task.cancel()

    async def wait_channel(self) -> SessionChannel:
        """The next connected session, once enrolled."""
        await self._ready.wait()
        if self._link is None:  # pragma: no cover - _ready is set only after the link
            raise RuntimeError("enrolled link missing")
        return await self._link.wait_channel()
