"""The session core shared by both tunnel ends: reader, writer, heartbeat, streams.

:class:`TunnelSession` runs over any :class:`~tunnel.transport.MessageTransport`. After the
handshake (see :class:`~tunnel.gateway_end.GatewaySession` and
:class:`~tunnel.device_end.DeviceSession`) ``await session.run()`` serves the session
until it ends and returns the :class:`DisconnectReason`. Inside, a ``TaskGroup`` runs:

* the reader, which decodes frames and dispatches them (stream frames to the stream
  table, TELEMETRY/CONTROL to the inbound worker, OPEN to a per-stream handler task).
  Over a :class:`~tunnel.transport.PushTransport` (the device's own WebSocket client)
  the transport calls the dispatch itself from ``data_received`` and the reader task
  only waits for the end: no task hop per frame;
* the writer, which sends session frames first and then one frame per ready stream in
  turn (round-robin), so a bulk stream cannot starve an interactive one;
* the heartbeat, which sends PING every ``heartbeat`` seconds, measures RTT from PONG and
  ends the session as ``heartbeat_timeout`` when nothing arrived for ``dead_after``;
* the inbound worker, which runs the TELEMETRY and CONTROL callbacks one after another.

Counters for the operator list and metrics: :meth:`TunnelSession.stats`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, ClassVar, Final, cast

from tunnel.errors import ProtocolError, SessionClosedError, StreamResetError
from tunnel.frames import (
    Ack,
    Close,
    Control,
    Credit,
    Data,
    Frame,
    OpenFail,
    OpenFailReason,
    OpenOk,
    OpenStream,
    Ping,
    Pong,
    Refuse,
    Reset,
    Telemetry,
    decode,
    encode,
)
from tunnel.session_inbound import InboundFrame, InboundQueue
from tunnel.session_state import DisconnectReason, Flag, SessionStats
from tunnel.stream_table import MAX_STREAMS, StreamTable
from tunnel.streams import INITIAL_WINDOW, Stream, fail_open_or_reset
from tunnel.transport import EagerSender, MessageTransport, PushTransport, abilities
from tunnel.window import (
    START_WINDOW,
    TUNNEL_BUDGET,
    TunnelWindows,
    WindowBudget,
    shared_budget,
)

__all__ = [
    "DEFAULT_HEARTBEAT",
    "ControlHandler",
    "DisconnectReason",
    "SessionStats",
    "StreamHandler",
    "TunnelSession",
]

_LOGGER = logging.getLogger(__name__)

DEFAULT_HEARTBEAT: Final = 15.0
"""Seconds between PINGs unless WELCOME says otherwise."""
DEAD_AFTER_BEATS: Final = 3
"""A peer silent for this many heartbeat intervals is declared dead."""

StreamHandler = Callable[[Stream], Awaitable[None]]
ControlHandler = Callable[[dict[str, Any]], Awaitable[None]]


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


class TunnelSession:
    """One end of a tunnel session; use the gateway or device subclass.

    An idle session costs one task (the reader) and one timer handle (the heartbeat):
    the writer and the inbound worker are started when there is something to do and end
    when there is nothing left. A task that writes to a stream sends the stream's DATA
    itself when nothing else waits for the transport (see :meth:`flush`).
    """

    ODD_STREAM_IDS: ClassVar[bool] = True
    INBOUND_LIMIT: ClassVar[int] = 64
    """TELEMETRY/CONTROL frames queued for the inbound worker before the reader waits."""
    FLUSH_BUDGET: ClassVar[int] = 32
    """Frames a writing task sends itself before it leaves the rest to the writer task."""

    def __init__(
        self,
        transport: MessageTransport,
        *,
        heartbeat: float = DEFAULT_HEARTBEAT,
        window: int = INITIAL_WINDOW,
        max_streams: int = MAX_STREAMS,
        on_open: StreamHandler | None = None,
        on_control: ControlHandler | None = None,
        name: str = "tunnel",
        window_budget: WindowBudget | None = None,
        start_window: int = START_WINDOW,
    ) -> None:
        self.name = name
        self.heartbeat = heartbeat
        """Seconds between PINGs; the peer is dead after ``DEAD_AFTER_BEATS`` of silence."""
        self.close_reason: DisconnectReason | None = None
        self.close_error: BaseException | None = None
        self.refusal: Refuse | None = None
        """The REFUSE frame that ended this session, if one did."""
        self.rtt: float | None = None
        """Round-trip time of the last answered PING, in seconds."""
        self.bytes_sent = 0
        self.bytes_received = 0
        self._transport = transport
        push, eager = abilities(transport)
        self._push = cast(PushTransport, transport) if push else None
        self._eager = cast(EagerSender, transport) if eager else None
        self._on_open = on_open
        self._on_control = on_control
        # Receive windows grow with the measured bandwidth-delay product, from this
        # tunnel's budget (which reserves from the process-wide one): tunnel/window.py.
        windows = TunnelWindows(
            initial=window,
            budget=window_budget or WindowBudget(limit=TUNNEL_BUDGET, parent=shared_budget()),
            now=_loop_time,
            rtt=self._measured_rtt,
            start=max(window, start_window),
        )
        odd = self.ODD_STREAM_IDS
        self._streams = StreamTable(
            self, odd_ids=odd, window=window, max_streams=max_streams, windows=windows
        )
        # Lists, not deques: an empty deque costs 760 bytes, and these are short.
        self._control: list[tuple[Frame, asyncio.Future[None] | None]] = []
        self._ready: list[Stream] = []
        self._scheduled: set[Stream] = set()
        self._sending = False  # the writer task or a flushing task owns the transport
        self._kick_pending = False
        self._writer: asyncio.Task[None] | None = None
        self._ended = Flag()
        self._finished = Flag()
        self._inbound = InboundQueue(
            limit=self.INBOUND_LIMIT, process=self._process, push=self._push, name=name
        )
        self._handlers: set[asyncio.Task[None]] = set()
        self._group: asyncio.TaskGroup | None = None
        self._beat: asyncio.TimerHandle | None = None
        self._pings: dict[int, float] = {}
        self._nonce = 0
        self._started: float | None = None
        self._last_received = 0.0

    def _measured_rtt(self) -> float | None:
        return self.rtt

    # -- public --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._started is not None and not self._finished.is_set()

    @property
    def streams(self) -> list[Stream]:
        """Live streams (a copy)."""
        return self._streams.streams

    @property
    def dead_after(self) -> float:
        return self.heartbeat * DEAD_AFTER_BEATS

    def stats(self) -> SessionStats:
        loop = asyncio.get_running_loop()
        return SessionStats(
            uptime=0.0 if self._started is None else loop.time() - self._started,
            bytes_sent=self.bytes_sent,
            bytes_received=self.bytes_received,
            open_streams=len(self._streams),
            streams_total=self._streams.opened_total,
            credit_stalls=self._streams.credit_stalls,
            rtt=self.rtt,
        )

    async def run(self) -> DisconnectReason:
        """Serve the session until it ends; the reason it ended."""
        if self._started is not None:
            raise RuntimeError("a session runs only once")
        loop = asyncio.get_running_loop()
        self._started = self._last_received = loop.time()
        try:
            async with asyncio.TaskGroup() as group:
                reader = group.create_task(
                    self._guard(self._read_loop()), name=f"{self.name} reader"
                )
                self._group = group
                # The first PING goes out at once: the window tuner needs an RTT.
                self._beat = loop.call_at(loop.time(), self._on_beat)
                try:
                    self._kick()  # frames queued before run()
                    await self._ended.wait()
                    if self.close_reason is DisconnectReason.CLEAN:
                        # Close the WebSocket while the reader still waits in receive(): the
                        # peer's close reply completes the handshake (cancelling the reader
                        # first would make the peer see an abnormal close, 1006).
                        with contextlib.suppress(Exception):
                            async with asyncio.timeout(5.0):
                                await self._transport.close()
                finally:  # the group winds down: a frame arriving now starts no task
                    self._group = None
                for task in (reader, self._writer, self._inbound.worker, *self._handlers):
                    if task is not None:
                        task.cancel()
        finally:
            await self._teardown()
        reason = self.close_reason or DisconnectReason.CLEAN
        level = logging.INFO if reason is DisconnectReason.CLEAN else logging.WARNING
        _LOGGER.log(level, "%s: session ended: %s (%s)", self.name, reason, self.close_error)
        return reason

    async def close(self) -> None:
        """End the session in order (the peer sees a clean close) and wait for it."""
        if self._started is None:
            await self._transport.close()
            return
        self._finish(DisconnectReason.CLEAN, None)
        await self._finished.wait()

    async def wait_closed(self) -> DisconnectReason:
        await self._finished.wait()
        return self.close_reason or DisconnectReason.CLEAN

    def _check_running(self) -> None:
        """Frames may be queued before ``run()`` starts, but not after the end."""
        if self._ended.is_set():
            raise SessionClosedError(f"the session has ended: {self.close_reason}")

    async def send_control(self, body: Mapping[str, Any]) -> None:
        """Send a CONTROL object; returns once it was handed to the transport."""
        await self._send_flushed(Control(dict(body)))

    # -- writer queue (FrameQueue) -------------------------------------------------------

    def send_frame(self, frame: Frame) -> None:
        """Queue a frame ahead of stream data."""
        self._control.append((frame, None))
        self._kick()

    def schedule(self, stream: Stream) -> None:
        if stream not in self._scheduled:
            self._scheduled.add(stream)
            self._ready.append(stream)
            self._kick()

    async def flush(self, stream: Stream) -> None:
        """Fast path for a task that just queued ``stream``'s frames: send them itself.

        Only when nobody else waits for the transport (no writer running, no session
        frame queued, no other stream ready), so the round-robin order is kept; else the
        writer task sends them. Saves the hop to the writer task on every write of an
        interactive stream. A send cancelled half-way resets the stream (we cannot know
        whether the frame left), and a transport failure ends the session.
        """
        if self._sending or self._control or self._ended.is_set() or self._started is None:
            return
        self._sending = True
        try:
            budget = self.FLUSH_BUDGET
            while budget and self._ready == [stream] and not self._control:
                frame = stream.take_frame()
                if not stream.has_outgoing:
                    self._ready.clear()
                    self._scheduled.discard(stream)
                if frame is None:
                    break
                budget -= 1
                try:
                    await self._send(encode(frame))
                except asyncio.CancelledError:
                    stream.reset("write cancelled")
                    raise
        except (SessionClosedError, ProtocolError, OSError) as exc:
            self._fail(exc)
        finally:
            self._sending = False
            self._kick()

    def send_now(self, stream: Stream) -> None:
        """``stream`` has new frames: send them from here if that is free, else schedule.

        For callbacks (a TCP protocol's ``data_received``, :mod:`tunnel.tcp_splice`):
        only over an :class:`~tunnel.transport.EagerSender` whose socket takes data now,
        and only when nobody else waits for the transport (no writer, no session frame,
        no other stream ready), so the round-robin order is kept. Saves the hop to the
        writer task, and the deferred kick, for every chunk.
        """
        eager = self._eager
        if (
            eager is None
            or self._sending
            or self._control
            or self._ready
            or self._ended.is_set()
            or self._started is None
        ):
            self.schedule(stream)
            return
        self._sending = True
        try:
            budget = self.FLUSH_BUDGET
            # has_outgoing first: the last frame sent, no second look at the socket
            while budget and stream.has_outgoing and eager.writable:
                frame = stream.take_frame()
                if frame is None:
                    break
                budget -= 1
                message = encode(frame)
                if not eager.send_nowait(message):  # cannot happen: writable said yes
                    self._fail(SessionClosedError("a frame was lost in an eager send"))
                    break
                self.bytes_sent += len(message)
        except (SessionClosedError, ProtocolError, OSError) as exc:
            self._fail(exc)
        finally:
            self._sending = False
        if stream.has_outgoing and not self._ended.is_set():
            self.schedule(stream)
        else:
            self._kick()  # frames others queued meanwhile (CREDIT from a take_frame, ...)

    async def _send_flushed(self, frame: Frame) -> None:
        self._check_running()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._control.append((frame, done))
        self._kick()
        await done

    def _next_frame(self) -> tuple[Frame, asyncio.Future[None] | None] | None:
        if self._control:
            return self._control.pop(0)
        while self._ready:
            stream = self._ready.pop(0)
            frame = stream.take_frame()
            if stream.has_outgoing:
                self._ready.append(stream)
            else:
                self._scheduled.discard(stream)
            if frame is not None:
                return frame, None
        return None

    def _kick(self) -> None:
        """Frames are waiting: make sure someone sends them, soon.

        Deferred by one loop callback, so a task that queues and then calls :meth:`flush`
        sends its frames itself, without a writer task being created for nothing.
        """
        if self._kick_pending or self._sending or self._group is None:
            return
        if self._control or self._ready:
            self._kick_pending = True
            asyncio.get_running_loop().call_soon(self._start_writer)

    def _start_writer(self) -> None:
        self._kick_pending = False
        if (
            self._sending
            or self._writer is not None
            or self._group is None
            or self._ended.is_set()
            or not (self._control or self._ready)
        ):
            return
        self._writer = self._spawn_guarded(self._write_loop, f"{self.name} writer")

    # -- tasks ---------------------------------------------------------------------------

    def _spawn(
        self, make: Callable[[], Coroutine[Any, Any, None]], name: str
    ) -> asyncio.Task[None] | None:
        """A task in the session's group for ``make()``, made only if the group takes it.

        A frame arriving while the group winds down (run cancelled, a task failed) must not
        leave a coroutine never awaited (3.11's ``create_task`` refuses it and keeps it open).
        """
        group = self._group
        if group is None:
            return None
        coro = make()
        try:
            return group.create_task(coro, name=name)
        except RuntimeError:  # aborting: a task failed and the cancellation is on its way
            coro.close()
            return None

    def _spawn_guarded(
        self, body: Callable[[], Coroutine[Any, Any, None]], name: str
    ) -> asyncio.Task[None] | None:
        """:meth:`_spawn` for a session loop whose errors end the session (:meth:`_guard`)."""
        return self._spawn(lambda: self._guard(body()), name)

    # -- loops ---------------------------------------------------------------------------

    async def _guard(self, body: Awaitable[None]) -> None:
        try:
            await body
        except (SessionClosedError, ProtocolError, OSError) as exc:
            self._fail(exc)
        except Exception as exc:
            _LOGGER.exception("%s: internal error", self.name)
            self._finish(DisconnectReason.INTERNAL_ERROR, exc)

    def _fail(self, exc: SessionClosedError | ProtocolError | OSError) -> None:
        if isinstance(exc, SessionClosedError):
            clean = exc.clean
            self._finish(DisconnectReason.CLEAN if clean else DisconnectReason.NETWORK, exc)
        elif isinstance(exc, ProtocolError):
            self._finish(DisconnectReason.PROTOCOL_ERROR, exc)
        else:
            self._finish(DisconnectReason.NETWORK, exc)

    async def _send(self, message: bytes) -> None:
        await self._transport.send(message)
        self.bytes_sent += len(message)

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        push = self._push
        if push is not None:
            push.set_receiver(self._on_message)
            try:
                while True:  # messages go to _on_message; receive() raises at the end
                    self._on_message(await push.receive())
            finally:
                push.set_receiver(None)
        while True:
            message = await self._transport.receive()
            self._last_received = loop.time()
            self.bytes_received += len(message)
            if self._dispatch(decode(message)):
                await self._inbound.has_room()

    def _on_message(self, message: bytes) -> None:
        """A push transport delivers one message (from its ``data_received``)."""
        if self._ended.is_set():
            return
        self._last_received = asyncio.get_running_loop().time()
        self.bytes_received += len(message)
        try:
            if self._dispatch(decode(message)):
                self._inbound.pause_push()
        except (SessionClosedError, ProtocolError, OSError) as exc:
            self._fail(exc)
        except Exception as exc:
            _LOGGER.exception("%s: internal error", self.name)
            self._finish(DisconnectReason.INTERNAL_ERROR, exc)

    async def _write_loop(self) -> None:
        try:
            while not self._sending and (item := self._next_frame()) is not None:
                self._sending = True
                frame, done = item
                try:
                    await self._send(encode(frame))
                finally:
                    self._sending = False
                if done is not None and not done.done():
                    done.set_result(None)
        finally:
            self._writer = None
        self._kick()

    def _on_beat(self) -> None:
        self._beat = None
        if self._ended.is_set():
            return
        loop = asyncio.get_running_loop()
        silent = loop.time() - self._last_received
        if silent > self.dead_after:
            error = SessionClosedError(f"peer silent for {silent:.1f} s")
            self._finish(DisconnectReason.HEARTBEAT_TIMEOUT, error)
            return
        self._nonce += 1
        self._pings[self._nonce] = loop.time()
        while len(self._pings) > 8:
            del self._pings[next(iter(self._pings))]
        self.send_frame(Ping(self._nonce))
        self._beat = loop.call_at(loop.time() + self.heartbeat, self._on_beat)

    def _dispatch(self, frame: Frame) -> bool:
        """Apply one received frame; True if the inbound queue is full (read no more)."""
        match frame:
            case Ping(nonce=nonce):
                self.send_frame(Pong(nonce))
            case Pong(nonce=nonce):
                sent = self._pings.pop(nonce, None)
                if sent is not None:
                    self.rtt = asyncio.get_running_loop().time() - sent
            case OpenStream():
                self._accept_stream(frame)
            case OpenOk() | OpenFail() | Data() | Credit() | Close() | Reset():
                self._streams.dispatch(frame)
            case Telemetry() | Ack() | Control():
                if self._early(frame):
                    return self._inbound.put(frame, self._spawn_guarded)
            case Refuse():
                self.refusal = frame
                self._finish(DisconnectReason.REFUSED, None)
            case _:
                raise ProtocolError(f"unexpected {frame.TYPE.name} in a running session")
        return False

    def _early(self, frame: InboundFrame) -> bool:
        """Handle in the reader what must not wait; True to queue it for the worker.

        Subclasses also reject here the frames their role never receives.
        """
        return isinstance(frame, Control)

    async def _process(self, frame: InboundFrame) -> None:
        if isinstance(frame, Control) and self._on_control is not None:
            await self._call_handler("control", self._on_control(dict(frame.body)))

    async def _call_handler(self, what: str, call: Awaitable[None]) -> bool:
        try:
            await call
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.warning("%s: %s handler failed", self.name, what, exc_info=True)
            return False
        return True

    def _accept_stream(self, frame: OpenStream) -> None:
        if self._on_open is None:
            self.send_frame(OpenFail(frame.stream_id, OpenFailReason.NOT_ALLOWED, "no streams"))
            return
        handler, stream = self._on_open, self._streams.incoming(frame)
        if stream is None:
            return
        serve = functools.partial(self._serve_stream, handler, stream)
        if (task := self._spawn(serve, f"{self.name} stream {stream.id}")) is None:
            stream.reset("session ended")
            return
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _serve_stream(self, handler: StreamHandler, stream: Stream) -> None:
        try:
            await handler(stream)
        except asyncio.CancelledError:
            stream.reset("session ended")
            raise
        except Exception as exc:
            _LOGGER.warning(
                "%s: stream %d to %s failed", self.name, stream.id, stream.target, exc_info=True
            )
            fail_open_or_reset(stream, exc)
            return
        await stream.close()

    # -- ending --------------------------------------------------------------------------

    def _finish(self, reason: DisconnectReason, error: BaseException | None) -> None:
        if self.close_reason is None:
            self.close_reason = reason
            self.close_error = error
        self._ended.set()

    async def _teardown(self) -> None:
        self._finish(DisconnectReason.CLEAN, None)
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None
        self._streams.abort_all(StreamResetError("tunnel session ended"))
        error = SessionClosedError(f"session ended: {self.close_reason}")
        for _, done in self._control:
            if done is not None and not done.done():
                done.set_exception(error)
        self._control.clear()
        self._on_ended(error)
        with contextlib.suppress(Exception):
            await self._transport.close()
        self._finished.set()

    def _on_ended(self, error: SessionClosedError) -> None:
        """Subclasses fail what still waits for the peer."""
