"""The device's tunnel connector: connect, handshake, serve, and reconnect forever.

::

    connector = TunnelConnector(
        url="wss://gateway.example:443/tunnel/v1",
        ssl_context=client_ssl_context(ca_file, cert_file, key_file),
        hello=Hello(versions=PROTOCOL_VERSIONS, capabilities=("telemetry",),
                    software="1.2.0", device_kind="ccu"),
        on_open=serve_local_webui, clock=SystemClock(), stop_on_expired=True,
    )
    runner = asyncio.create_task(connector.run())
    session = await connector.wait_connected()       # DeviceSession: send_telemetry, ...

Every ended attempt is recorded as a :class:`~tunnel.session.DisconnectReason` (INFO when
clean, WARNING otherwise) and followed by a capped, fully jittered backoff delay
(:mod:`tunnel.backoff`; capped lower when the gateway closed the connection before TLS:
``gateway_busy``), never shorter than a REFUSE's ``retry_after``. The connector never
gives up because a connect failed. Only REFUSE(expired) with ``stop_on_expired`` parks it
(state ``disabled``) until :meth:`TunnelConnector.reenable`. ``sleep`` is injected so tests
run the reconnect loop without real waiting; wall-clock instants come from the injected
:class:`~tunnel.clock.Clock`, durations from ``loop.time()``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path

from tunnel.backoff import Backoff
from tunnel.clock import Clock
from tunnel.connector_status import ConnectorStatus, Disconnect, StatusRecorder
from tunnel.device_end import DeviceSession
from tunnel.errors import (
    ClosedBeforeTlsError,
    ProtocolError,
    RefusedError,
    SessionClosedError,
    UpgradeRefusedError,
)
from tunnel.frames import Hello, RefusalReason
from tunnel.session import ControlHandler, DisconnectReason, StreamHandler
from tunnel.ws_client import WebSocketClient, connect

__all__ = ["ConnectorState", "TunnelConnector", "client_ssl_context"]

_LOGGER = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class ConnectorState(StrEnum):
    """What the connector is doing now."""

    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"
    """Backing off before the next attempt."""
    DISABLED = "disabled"
    """Refused as expired with ``stop_on_expired``: waits for :meth:`reenable`."""
    STOPPED = "stopped"


def client_ssl_context(
    ca_file: Path | str, cert_file: Path | str, key_file: Path | str
) -> ssl.SSLContext:
    """TLS >= 1.2, the gateway verified against ``ca_file``, our device certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_file), str(key_file))
    return context


class TunnelConnector:
    """Keeps one device session to the gateway alive."""

    def __init__(
        self,
        *,
        url: str,
        ssl_context: ssl.SSLContext,
        hello: Hello,
        clock: Clock,
        on_open: StreamHandler | None = None,
        on_control: ControlHandler | None = None,
        stop_on_expired: bool = False,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
        connect_timeout: float = 15.0,
        handshake_timeout: float = 10.0,
        name: str = "tunnel",
    ) -> None:
        self.url = url
        self._ssl = ssl_context
        self._hello = hello
        self._clock = clock
        self._on_open = on_open
        self._on_control = on_control
        self._stop_on_expired = stop_on_expired
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._connect_timeout = connect_timeout
        self._handshake_timeout = handshake_timeout
        self._name = name
        self._state = ConnectorState.IDLE
        self._changed = asyncio.Event()
        self._reenabled = asyncio.Event()
        self._stop_event = asyncio.Event()
        self._session: DeviceSession | None = None
        self._status = StatusRecorder()
        self.disconnects: deque[Disconnect] = deque(maxlen=50)
        """The most recent ended attempts, oldest first."""
        self._bytes_done = (0, 0)

    # -- observation ---------------------------------------------------------------------

    @property
    def state(self) -> ConnectorState:
        return self._state

    @property
    def session(self) -> DeviceSession | None:
        """The running session, if connected."""
        return self._session

    def status(self) -> ConnectorStatus:
        """A snapshot for the local dashboard."""
        session = self._session
        sent, received = self._bytes_done
        if session is not None:
            sent += session.bytes_sent
            received += session.bytes_received
        return self._status.snapshot(
            state=str(self._state),
            rtt=session.rtt if session is not None else self._status.rtt,
            bytes_sent=sent,
            bytes_received=received,
            failed_attempts=self._backoff.attempt,
        )

    async def wait_state(self, *states: ConnectorState) -> ConnectorState:
        """Wait until the connector is in one of ``states``."""
        while self._state not in states:
            self._changed.clear()
            await self._changed.wait()
        return self._state

    async def wait_connected(self) -> DeviceSession:
        """The session, once connected (waits across reconnects)."""
        while (session := self._session) is None or self._state is not ConnectorState.CONNECTED:
            self._changed.clear()
            await self._changed.wait()
        return session

    # -- control -------------------------------------------------------------------------

    def reenable(self) -> None:
        """Leave the ``disabled`` state (the owner renewed the package locally)."""
        if self._state is ConnectorState.DISABLED:
            self._reenabled.set()

    async def stop(self) -> None:
        """End the session and the reconnect loop (``run()`` returns)."""
        self._stop_event.set()
        self._reenabled.set()
        if self._session is not None:
            await self._session.close()

    async def run(self) -> None:
        """Connect and reconnect until :meth:`stop`; never raises for network trouble."""
        loop = asyncio.get_running_loop()
        try:
            while not self._stop_event.is_set():
                started = loop.time()
                reason, refusal_after, connected = await self._attempt()
                if connected:
                    self._backoff.session_ended(loop.time() - started)
                if self._stop_event.is_set():
                    break
                if reason is DisconnectReason.REFUSED and self._disabled_by_refusal():
                    self._set_state(ConnectorState.DISABLED)
                    _LOGGER.warning("%s: package expired; waiting to be re-enabled", self._name)
                    await self._reenabled.wait()
                    self._reenabled.clear()
                    self._backoff.reset()
                    continue
                busy = reason is DisconnectReason.GATEWAY_BUSY
                delay = max(
                    self._backoff.next_delay(after_session=connected, busy=busy), refusal_after
                )
                self._status.next_delay = delay
                self._set_state(ConnectorState.WAITING)
                await self._wait(delay)
        finally:
            self._set_state(ConnectorState.STOPPED)

    # -- internals -----------------------------------------------------------------------

    def _disabled_by_refusal(self) -> bool:
        refusal = self._status.last_refusal
        expired = refusal is not None and refusal.reason is RefusalReason.EXPIRED
        return self._stop_on_expired and expired

    async def _wait(self, delay: float) -> None:
        sleeper = asyncio.ensure_future(self._sleep(delay))
        stopper = asyncio.ensure_future(self._stop_event.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()

    def _set_state(self, state: ConnectorState) -> None:
        self._state = state
        self._changed.set()

    async def _attempt(self) -> tuple[DisconnectReason, float, bool]:
        """One connection: (why it ended, REFUSE retry_after or 0, whether it ran)."""
        self._set_state(ConnectorState.CONNECTING)
        self._status.attempts += 1
        try:
            async with asyncio.timeout(self._connect_timeout):
                ws: WebSocketClient = await connect(self.url, self._ssl)
        except ClosedBeforeTlsError as exc:  # the gateway is busy: a shorter backoff cap
            return self._ended(DisconnectReason.GATEWAY_BUSY, exc), 0.0, False
        except ssl.SSLError as exc:  # also ssl.SSLCertVerificationError
            return self._ended(DisconnectReason.TLS_ERROR, exc), 0.0, False
        except UpgradeRefusedError as exc:  # wrong URL, or a proxy in between said no
            return self._ended(DisconnectReason.NETWORK, exc), 0.0, False
        except ProtocolError as exc:  # something answered, but not a WebSocket server
            return self._ended(DisconnectReason.PROTOCOL_ERROR, exc), 0.0, False
        except (OSError, TimeoutError) as exc:
            return self._ended(DisconnectReason.NETWORK, exc), 0.0, False
        session = DeviceSession(
            ws,
            on_open=self._on_open,
            on_control=self._on_control,
            name=self._name,
        )
        try:
            return await self._serve(session)
        finally:
            await session.close()
            self._session = None
            self._bytes_done = (
                self._bytes_done[0] + session.bytes_sent,
                self._bytes_done[1] + session.bytes_received,
            )
            self._status.rtt = session.rtt

    async def _serve(self, session: DeviceSession) -> tuple[DisconnectReason, float, bool]:
        try:
            welcome = await session.handshake(self._hello, timeout=self._handshake_timeout)
        except RefusedError as exc:
            self._status.refused(session.refusal, self._clock.now())
            return self._ended(DisconnectReason.REFUSED, exc), exc.retry_after, False
        except TimeoutError as exc:
            return self._ended(DisconnectReason.HANDSHAKE_TIMEOUT, exc), 0.0, False
        except ProtocolError as exc:
            return self._ended(DisconnectReason.PROTOCOL_ERROR, exc), 0.0, False
        except SessionClosedError as exc:
            return self._ended(DisconnectReason.NETWORK, exc), 0.0, False
        if self._stop_event.is_set():
            return self._ended(DisconnectReason.CLEAN, None), 0.0, False
        if welcome.reconnect_window is not None:
            self._backoff.window_hint = welcome.reconnect_window
        now = self._clock.now()
        self._status.connected(now, welcome.session_id)
        _LOGGER.info("%s: connected, session %s", self._name, welcome.session_id)
        self._session = session
        self._set_state(ConnectorState.CONNECTED)
        reason = await session.run()
        self._status.connected_since = None
        retry_after = 0.0
        if session.refusal is not None:
            self._status.refused(session.refusal, self._clock.now())
            retry_after = session.refusal.retry_after
        return self._ended(reason, session.close_error), retry_after, True

    def _ended(self, reason: DisconnectReason, error: BaseException | None) -> DisconnectReason:
        record = Disconnect(at=self._clock.now(), reason=reason, detail=str(error or ""))
        self.disconnects.append(record)
        self._status.last_disconnect = record
        if reason is DisconnectReason.CLEAN:
            _LOGGER.info("%s: disconnected: %s", self._name, reason)
        else:
            _LOGGER.warning("%s: disconnected: %s (%s)", self._name, reason, record.detail)
        return reason
