"""The tunnel as the uplink's channel: the device session and the reconnecting connector.

:class:`SessionChannel` adapts one :class:`~tunnel.device_end.DeviceSession` to
:class:`~inverter_agent.uplink.TelemetryChannel` (``send_telemetry`` already returns the ACK
future); :class:`TunnelLink` adapts the :class:`~tunnel.connector.TunnelConnector` to
:class:`~inverter_agent.uplink.ChannelSource`. The agent connects with the client certificate
from its state folder::

    device.key      EC private key, made on this box, never sent anywhere (mode 0600)
    device.crt      the certificate the gateway's device CA issued at enrolment
    device-ca.crt   the CA to verify the gateway with when ``gateway.ca_file`` is not set
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from inverter_agent.config import GatewayLink
from inverter_agent.uplink import UplinkClosedError
from tunnel.clock import Clock
from tunnel.connector import ConnectorState, TunnelConnector
from tunnel.device_end import DeviceSession
from tunnel.enrolment import CA_FILE, CERT_FILE, KEY_FILE
from tunnel.errors import SessionClosedError
from tunnel.frames import PROTOCOL_VERSIONS, Hello
from tunnel.session import ControlHandler

__all__ = [
    "CA_FILE",
    "CERT_FILE",
    "KEY_FILE",
    "SessionChannel",
    "TunnelLink",
    "agent_hello",
    "tunnel_url",
]

_LOGGER = logging.getLogger(__name__)

_NOT_CONNECTED = (
    ConnectorState.WAITING,
    ConnectorState.CONNECTING,
    ConnectorState.DISABLED,
    ConnectorState.STOPPED,
)


def agent_hello() -> Hello:
    """What the agent says in HELLO."""
    try:
        software = version("cloudconnector")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        software = "0.0.0"
    return Hello(
        versions=PROTOCOL_VERSIONS,
        capabilities=("telemetry",),
        software=f"inverter-agent/{software}",
        device_kind="inverter_agent",
    )


def tunnel_url(base: str) -> str:
    """``https://gw:8443/`` → ``wss://gw:8443/tunnel/v1``."""
    parts = urlsplit(urljoin(base if base.endswith("/") else f"{base}/", "tunnel/v1"))
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, "", ""))


class SessionChannel:
    """One device session as a :class:`~inverter_agent.uplink.TelemetryChannel`."""

    def __init__(self, session: DeviceSession) -> None:
        self.session = session

    async def send(self, seq: int, payload: bytes) -> asyncio.Future[None]:
        try:
            return await self.session.send_telemetry(seq, payload)
        except SessionClosedError as exc:
            raise UplinkClosedError(f"tunnel session ended: {exc}") from exc


class TunnelLink:
    """The reconnecting tunnel as a :class:`~inverter_agent.uplink.ChannelSource`."""

    def __init__(self, connector: TunnelConnector) -> None:
        self.connector = connector

    @classmethod
    def enrolled(cls, state_dir: Path) -> bool:
        """Whether the state folder holds a key and a certificate."""
        return (state_dir / KEY_FILE).is_file() and (state_dir / CERT_FILE).is_file()

    @classmethod
    def from_config(
        cls, gateway: GatewayLink, state_dir: Path, *, clock: Clock, on_control: ControlHandler
    ) -> TunnelLink:
        """A link with the device certificate from ``state_dir`` (blocking file reads)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        ca_file = gateway.ca_file or state_dir / CA_FILE
        if gateway.ca_file is not None or ca_file.is_file():
            context.load_verify_locations(cafile=str(ca_file))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(state_dir / CERT_FILE), str(state_dir / KEY_FILE))
        connector = TunnelConnector(
            url=tunnel_url(gateway.url),
            ssl_context=context,
            hello=agent_hello(),
            clock=clock,
            on_control=on_control,
            name="tunnel",
        )
        return cls(connector)

    async def run(self) -> None:
        """Connect and reconnect until :meth:`stop`."""
        await self.connector.run()

    async def stop(self) -> None:
        """Close the session cleanly and end :meth:`run`."""
        await self.connector.stop()

    async def wait_channel(self) -> SessionChannel:
        while True:
            session = await self.connector.wait_connected()
            if session.close_reason is None:  # not ended
                return SessionChannel(session)
            # The session just ended and the connector has not noticed yet.
            await self.connector.wait_state(*_NOT_CONNECTED)
