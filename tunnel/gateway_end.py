"""The gateway end of a tunnel session.

Typical use in the ``/tunnel/v1`` handler, after the TLS client certificate was checked::

    session = GatewaySession(transport, on_telemetry=store_batch, heartbeat=15.0)
    hello = await session.receive_hello(timeout=10.0)
    if not entitled:
        await session.refuse(RefusalReason.EXPIRED, retry_after=3600.0)
        return
    await session.accept(session_id="...", capabilities=("telemetry",))
    reason = await session.run()          # in its own task; meanwhile:
    stream = await session.open_stream("http://127.0.0.1:80")   # OpenFailedError if not
    await session.send_control({"entitlement": "active"})

``on_telemetry(seq, payload)`` must return only after the batch is committed: the session
then sends ACK(seq), and the device deletes the batch from its outbox. A handler that
raises sends no ACK (the device sends the batch again; dedup by (device, seq)).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from tunnel.errors import ProtocolError, RefusedError
from tunnel.frames import (
    PROTOCOL_VERSIONS,
    Ack,
    Control,
    Hello,
    RefusalReason,
    Refuse,
    Telemetry,
    Welcome,
    decode,
    encode,
)
from tunnel.session import DEFAULT_HEARTBEAT, ControlHandler, DisconnectReason, TunnelSession
from tunnel.stream_table import MAX_STREAMS, OPEN_CREDIT, PIPELINED_OPEN
from tunnel.streams import INITIAL_WINDOW, Stream
from tunnel.transport import MessageTransport
from tunnel.window import WindowBudget

__all__ = ["GatewaySession", "TelemetryHandler", "choose_version"]

_LOGGER = logging.getLogger(__name__)

TelemetryHandler = Callable[[int, bytes], Awaitable[None]]


def choose_version(hello: Hello, supported: Iterable[int] = PROTOCOL_VERSIONS) -> int | None:
    """The highest protocol version both ends speak, or None (refuse as ``outdated``)."""
    common = set(hello.versions) & set(supported)
    return max(common) if common else None


class GatewaySession(TunnelSession):
    """The gateway end: opens streams, receives telemetry, may refuse."""

    ODD_STREAM_IDS = True

    def __init__(
        self,
        transport: MessageTransport,
        *,
        on_telemetry: TelemetryHandler | None = None,
        on_control: ControlHandler | None = None,
        heartbeat: float = DEFAULT_HEARTBEAT,
        window: int = INITIAL_WINDOW,
        max_streams: int = MAX_STREAMS,
        name: str = "gateway",
        window_budget: WindowBudget | None = None,
        pipelined_open: bool = True,
    ) -> None:
        super().__init__(
            transport,
            heartbeat=heartbeat,
            window=window,
            max_streams=max_streams,
            on_control=on_control,
            name=name,
            window_budget=window_budget,
        )
        self._on_telemetry = on_telemetry
        self.telemetry_concurrency = 1
        """TELEMETRY frames handled at once. Above 1 the handler is called for the next frame
        before the last one's call returned (it must take concurrent calls for one device:
        a group commit), so a device's window of frames can share one commit; each frame is
        still ACKed after its own call returned, and never more are in progress."""
        self._telemetry_calls: set[asyncio.Task[None]] | None = None
        self._offer_pipelined = pipelined_open
        self.hello: Hello | None = None
        """The device's HELLO, once received."""
        self.welcome: Welcome | None = None
        """The WELCOME we sent, once accepted."""

    async def receive_hello(self, timeout: float = 10.0) -> Hello:
        """Wait for the device's HELLO; ``TimeoutError`` or :class:`ProtocolError`."""
        async with asyncio.timeout(timeout):
            message = await self._transport.receive()
        self.bytes_received += len(message)
        frame = decode(message)
        if not isinstance(frame, Hello):
            raise ProtocolError(f"expected HELLO, got {frame.TYPE.name}")
        self.hello = frame
        return frame

    async def accept(
        self,
        *,
        session_id: str,
        capabilities: Sequence[str] = (),
        supported: Iterable[int] = PROTOCOL_VERSIONS,
        reconnect_window: float | None = None,
    ) -> Welcome:
        """Send WELCOME with the chosen version, the common capabilities, our heartbeat
        and, when given, the window over which the device spreads its first reconnect.

        Without a common version the device is refused as ``outdated`` and
        :class:`RefusedError` is raised.
        """
        if self.hello is None:
            raise RuntimeError("accept() needs receive_hello() first")
        version = choose_version(self.hello, supported)
        if version is None:
            offered = ", ".join(map(str, self.hello.versions))
            detail = f"device speaks {offered}; gateway speaks {', '.join(map(str, supported))}"
            await self.refuse(RefusalReason.OUTDATED, 24 * 3600.0, detail)
            raise RefusedError(RefusalReason.OUTDATED, 24 * 3600.0, detail)
        if self._offer_pipelined and PIPELINED_OPEN not in capabilities:
            capabilities = (*capabilities, PIPELINED_OPEN)  # the tunnel's own, always offered
        common = tuple(c for c in capabilities if c in self.hello.capabilities)
        if PIPELINED_OPEN in common:
            self._streams.open_credit = OPEN_CREDIT
        welcome = Welcome(version, common, self.heartbeat, session_id, reconnect_window)
        message = encode(welcome)
        await self._transport.send(message)
        self.bytes_sent += len(message)
        self.welcome = welcome
        return welcome

    async def refuse(
        self, reason: RefusalReason, retry_after: float, detail: str = "", timeout: float = 5.0
    ) -> None:
        """Send REFUSE (before or during the session), then close."""
        frame = Refuse(reason, retry_after, detail)
        _LOGGER.info(
            "%s: refusing: %s (retry after %g s) %s", self.name, reason, retry_after, detail
        )
        if self.close_reason is None:
            # Recorded first: the device closes as soon as it has read REFUSE.
            self.close_reason = DisconnectReason.REFUSED
        if self._started is None:
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._transport.send(encode(frame))
            await self._transport.close()
            return
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(timeout):
                await self._send_flushed(frame)
        self._finish(DisconnectReason.REFUSED, None)
        await self._finished.wait()

    async def open_stream(
        self, target: str, timeout: float = 10.0, *, pipelined: bool = False
    ) -> Stream:
        """Open a stream to ``target`` on the device.

        :class:`~tunnel.errors.OpenFailedError` when the device answers OPEN_FAIL,
        ``TimeoutError`` when it does not answer, :class:`SessionClosedError` when the
        session is not running. With ``pipelined`` and a device that agreed to
        ``pipelined_open``, it returns at once: the request's first 64 KiB go out right
        behind OPEN, and an OPEN_FAIL shows as the stream's error (on read or write).
        """
        self._check_running()
        stream = self._streams.open(target)
        if pipelined and stream.open_credit:
            return stream
        try:
            async with asyncio.timeout(timeout):
                await stream.wait_open()
        except TimeoutError:
            stream.reset("open timed out")
            raise
        except asyncio.CancelledError:
            stream.reset("open cancelled")
            raise
        return stream

    def _early(self, frame: Telemetry | Ack | Control) -> bool:
        if isinstance(frame, Ack):
            raise ProtocolError("the gateway does not receive ACK")
        return True

    async def _process(self, frame: Telemetry | Ack | Control) -> None:
        if not isinstance(frame, Telemetry):
            await super()._process(frame)
            return
        if self._on_telemetry is None:
            _LOGGER.warning("%s: telemetry %d dropped: no handler", self.name, frame.seq)
            return
        if self.telemetry_concurrency <= 1 or self._group is None:
            await self._telemetry(frame)
            return
        calls = self._telemetry_calls
        if calls is None:
            calls = self._telemetry_calls = set()
        while len(calls) >= self.telemetry_concurrency:
            await asyncio.wait(calls, return_when=asyncio.FIRST_COMPLETED)
        call = self._spawn(functools.partial(self._telemetry, frame), f"{self.name} telemetry")
        if call is not None:  # else the session winds down: no ACK, the device sends it again
            calls.add(call)
            call.add_done_callback(calls.discard)

    async def _telemetry(self, frame: Telemetry) -> None:
        assert self._on_telemetry is not None
        if await self._call_handler("telemetry", self._on_telemetry(frame.seq, frame.payload)):
            self.send_frame(Ack(frame.seq))
