"""The device end of a tunnel session (CCU add-on, inverter agent).

::

    session = DeviceSession(transport, on_open=serve_local_http, on_control=apply)
    welcome = await session.handshake(hello, timeout=10.0)   # RefusedError on REFUSE
    runner = asyncio.create_task(session.run())
    ack = await session.send_telemetry(seq, payload)   # queued; several may be in flight
    await ack                                          # ACK(seq) arrived: delete from outbox

``on_open(stream)`` is called for every stream the gateway opens, with ``stream.target``
naming the local target. The handler connects to it and then reads/writes the stream (the
first read or write, or ``stream.accept()``, answers OPEN_OK). If it cannot reach the
target it calls ``stream.fail_open(reason, detail)`` or raises: ``TimeoutError`` becomes
OPEN_FAIL(timeout), another ``OSError`` OPEN_FAIL(unreachable), anything else
OPEN_FAIL(error). When the handler returns, the stream is closed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from tunnel.errors import ProtocolError, RefusedError, SessionClosedError
from tunnel.frames import Ack, Control, Hello, Refuse, Telemetry, Welcome, decode, encode
from tunnel.session import (
    DEFAULT_HEARTBEAT,
    ControlHandler,
    StreamHandler,
    TunnelSession,
)
from tunnel.stream_table import MAX_STREAMS, OPEN_CREDIT, PIPELINED_OPEN
from tunnel.streams import INITIAL_WINDOW
from tunnel.transport import MessageTransport
from tunnel.window import WindowBudget

__all__ = ["DeviceSession"]

_LOGGER = logging.getLogger(__name__)


class DeviceSession(TunnelSession):
    """The device end: says HELLO, accepts streams, sends telemetry and awaits ACKs."""

    ODD_STREAM_IDS = False

    def __init__(
        self,
        transport: MessageTransport,
        *,
        on_open: StreamHandler | None = None,
        on_control: ControlHandler | None = None,
        max_unacked: int = 16,
        window: int = INITIAL_WINDOW,
        max_streams: int = MAX_STREAMS,
        name: str = "device",
        window_budget: WindowBudget | None = None,
        pipelined_open: bool = True,
    ) -> None:
        super().__init__(
            transport,
            heartbeat=DEFAULT_HEARTBEAT,
            window=window,
            max_streams=max_streams,
            on_open=on_open,
            on_control=on_control,
            name=name,
            window_budget=window_budget,
        )
        if max_unacked < 1:
            raise ValueError("max_unacked must be at least 1")
        self._max_unacked = max_unacked
        # The gateway may send request bytes right behind OPEN: we buffer them within
        # our window, so we offer it only with a window that holds the opener's credit.
        self._offer_pipelined = pipelined_open and window >= OPEN_CREDIT
        self._acks: dict[int, asyncio.Future[None]] = {}
        self._ack_room = asyncio.Event()
        self.welcome: Welcome | None = None
        """The gateway's WELCOME, once the handshake succeeded."""

    @property
    def unacked(self) -> int:
        """TELEMETRY batches sent and not yet acknowledged."""
        return len(self._acks)

    async def handshake(self, hello: Hello, timeout: float = 10.0) -> Welcome:
        """Send HELLO and wait for WELCOME; :class:`RefusedError` if REFUSE comes back.

        The tunnel's own capabilities (``pipelined_open``) are added to the HELLO's.
        """
        if self._offer_pipelined and PIPELINED_OPEN not in hello.capabilities:
            hello = dataclasses.replace(hello, capabilities=(*hello.capabilities, PIPELINED_OPEN))
        message = encode(hello)
        async with asyncio.timeout(timeout):
            await self._transport.send(message)
            self.bytes_sent += len(message)
            answer = await self._transport.receive()
        self.bytes_received += len(answer)
        frame = decode(answer)
        if isinstance(frame, Refuse):
            self.refusal = frame
            raise RefusedError(frame.reason, frame.retry_after, frame.detail)
        if not isinstance(frame, Welcome):
            raise ProtocolError(f"expected WELCOME or REFUSE, got {frame.TYPE.name}")
        if frame.version not in hello.versions:
            raise ProtocolError(f"gateway chose version {frame.version} that was not offered")
        self.heartbeat = frame.heartbeat
        if self._offer_pipelined and PIPELINED_OPEN in frame.capabilities:
            self._streams.open_credit = OPEN_CREDIT
        self.welcome = frame
        return frame

    async def send_telemetry(self, seq: int, payload: bytes) -> asyncio.Future[None]:
        """Queue TELEMETRY(seq); the future resolves when ACK(seq) arrives.

        Waits while ``max_unacked`` batches are in flight. The future fails with
        :class:`SessionClosedError` if the session ends before the ACK.
        """
        while len(self._acks) >= self._max_unacked:
            self._check_running()
            self._ack_room.clear()
            await self._ack_room.wait()
        self._check_running()
        if seq in self._acks:
            raise ValueError(f"telemetry {seq} is already waiting for its ACK")
        frame = Telemetry(seq, payload)
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks[seq] = ack
        self.send_frame(frame)
        return ack

    def _early(self, frame: Telemetry | Ack | Control) -> bool:
        if isinstance(frame, Telemetry):
            raise ProtocolError("the device does not receive TELEMETRY")
        if isinstance(frame, Ack):
            # Resolve at once, not behind a slow CONTROL handler.
            ack = self._acks.pop(frame.seq, None)
            if ack is None:
                _LOGGER.debug("%s: ACK for unknown telemetry %d", self.name, frame.seq)
            elif not ack.done():
                ack.set_result(None)
            self._ack_room.set()
            return False
        return True

    def _on_ended(self, error: SessionClosedError) -> None:
        for ack in self._acks.values():
            if not ack.done():
                ack.set_exception(error)
                ack.exception()  # mark retrieved: callers that gave up must not warn
        self._acks.clear()
        self._ack_room.set()
