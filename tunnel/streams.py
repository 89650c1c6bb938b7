"""Multiplexed streams with per-stream credit windows; no transport, no tasks.

A :class:`Stream` is one bidirectional byte stream inside a session, used much like an
asyncio stream pair::

    data = await stream.read(65536)     # b"" once the peer has half-closed (CLOSE)
    await stream.write(b"...")          # waits while the peer grants no credit
    await stream.write_eof()            # half-close our direction (CLOSE)
    stream.reset("reason")              # abort both directions (RESET)
    await stream.close()                # write_eof, drain the peer's rest, done

Flow control: each direction has a window. The receiver announces its initial window in
OPEN / OPEN_OK and grants more with CREDIT as the application consumes bytes (once half
a window has been read). A sender never has more DATA in flight than its credit; a peer
that does is reset with :class:`~tunnel.errors.FlowControlError`. Both the receive buffer
(bounded by the window) and the send queue are at most :data:`MAX_BUFFER` bytes.

Frames a stream wants to send go to its own outbox; the session's writer takes one frame
per ready stream in turn (round-robin), so a bulk stream cannot starve others. The
session dispatches incoming stream frames through a :class:`~tunnel.stream_table.StreamTable`.

Callback use, without tasks (:mod:`tunnel.tcp_splice` joins a stream to a TCP connection
this way): :meth:`Stream.attach` hands every received byte to a
:class:`StreamReceiver` as it arrives instead of buffering it for :meth:`Stream.read`;
credit is granted as it is handed over, unless :meth:`Stream.hold_credit` says the
receiver's own buffer is full. :meth:`Stream.write_now` queues and sends at once when
the session's transport is free; :attr:`Stream.on_writable` is called when a write that
could not take everything may go on.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Final, Protocol

from tunnel.errors import FlowControlError, StreamError, StreamResetError
from tunnel.frame_types import MAX_U32
from tunnel.frames import Close, Credit, Data, Frame, OpenFail, OpenFailReason, OpenOk, Reset
from tunnel.window import WindowTuner

__all__ = [
    "INITIAL_WINDOW",
    "MAX_BUFFER",
    "MAX_CHUNK",
    "Stream",
    "StreamReceiver",
    "StreamSink",
    "fail_open_or_reset",
]

INITIAL_WINDOW: Final = 256 * 1024
"""Bytes a receiver accepts on a new stream before it grants more credit."""
MAX_BUFFER: Final = 1024 * 1024
"""Upper bound of a stream's receive buffer and of its send queue."""
MAX_CHUNK: Final = 128 * 1024
"""Largest DATA payload the writer sends; smaller chunks interleave streams more finely."""


class StreamSink(Protocol):
    """What a stream needs from its session (implemented by the stream table)."""

    def send_frame(self, frame: Frame) -> None:
        """Queue a frame ahead of all stream data (CREDIT, RESET, OPEN_OK, ...)."""

    def schedule(self, stream: Stream) -> None:
        """The stream has frames in its outbox for the round-robin writer."""

    def release(self, stream: Stream) -> None:
        """The stream is finished in both directions; forget its id."""

    async def flush(self, stream: Stream) -> None:
        """The stream's task offers to send the frames it just queued itself."""

    def send_now(self, stream: Stream) -> None:
        """The stream has new frames: send them now if the transport is free, else
        serve the stream in the round-robin (as :meth:`schedule`)."""


class StreamReceiver(Protocol):
    """Takes a stream's incoming bytes as they arrive (see :meth:`Stream.attach`).

    The callbacks run inside the session's frame dispatch and must not raise: an exception
    would end the whole session, not just this stream. A receiver whose own side failed
    resets the stream instead.
    """

    def stream_data(self, data: bytes) -> None:
        """Bytes from the peer, in order."""

    def stream_eof(self) -> None:
        """The peer half-closed: no more data."""

    def stream_ended(self, error: StreamError | None) -> None:
        """The stream is finished: closed both ways (``None``) or aborted (``error``)."""


class Stream:
    """One multiplexed byte stream; created by the session, never directly."""

    def __init__(
        self,
        sink: StreamSink,
        stream_id: int,
        target: str,
        *,
        window: int = INITIAL_WINDOW,
        accepted: bool,
        tuner: WindowTuner | None = None,
        open_credit: int | None = None,
    ) -> None:
        if not 0 < window <= MAX_BUFFER:
            raise ValueError(f"window must be within 1..{MAX_BUFFER}")
        if tuner is not None and tuner.size != window:
            raise ValueError("the tuner must start at the stream's window")
        self.id: Final = stream_id
        self.target: Final = target
        self.bytes_in = 0
        """DATA bytes received from the peer."""
        self.bytes_out = 0
        """DATA bytes queued towards the peer."""
        self.credit_stalls = 0
        """How often a write had to wait because the peer granted no credit."""
        self._sink = sink
        self._accepted = accepted
        # Our own stream (we sent OPEN): never answer it with OPEN_OK. ``open_credit``
        # bytes may be sent before the peer's OPEN_OK (pipelined open, protocol.md).
        self._opener = open_credit is not None
        self._open_credit = open_credit or 0
        self._initial_window = window
        self._window = window  # bytes the peer may still send
        self._size = window  # _window + _buffered + _consumed: the receive window now
        self._tuner = tuner
        self._buffer: deque[bytes] = deque()
        self._buffered = 0
        self._consumed = 0  # read but not yet credited back
        self._eof_in = False
        self._credit = self._open_credit
        self._outbox: deque[Frame] = deque()
        self._outbox_bytes = 0
        self._eof_out = False
        self._eof_flushed = False
        self._error: StreamError | None = None
        self._released = False
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._done = asyncio.Event()
        self._receiver: StreamReceiver | None = None
        self._credit_held = False
        self.on_writable: Callable[[], None] | None = None
        """Called when credit or queue space arrives, or the stream ends."""

    def __repr__(self) -> str:
        return f"<Stream {self.id} {self.target!r} in={self.bytes_in} out={self.bytes_out}>"

    # -- state ---------------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        """Received bytes not yet read by the application."""
        return self._buffered

    @property
    def queued(self) -> int:
        """DATA bytes waiting in the outbox for the writer."""
        return self._outbox_bytes

    @property
    def credit(self) -> int:
        """Bytes we may still send before the peer grants more."""
        return self._credit

    @property
    def window(self) -> int:
        """Bytes the peer may still send before we grant more."""
        return self._window

    @property
    def window_size(self) -> int:
        """The receive window now: the initial one, or what the tuner grew it to."""
        return self._size

    @property
    def accepted(self) -> bool:
        """OPEN_OK was sent or received: the stream is open."""
        return self._accepted

    @property
    def at_eof(self) -> bool:
        """The peer has half-closed and every byte has been read."""
        return self._eof_in and not self._buffer

    @property
    def finished(self) -> bool:
        """The stream is closed in both directions or reset; its id is released."""
        return self._released

    @property
    def error(self) -> StreamError | None:
        """Why the stream was aborted, if it was."""
        return self._error

    # -- application side ----------------------------------------------------------------

    def accept(self) -> None:
        """Answer the peer's OPEN with OPEN_OK (automatic on the first read or write)."""
        if not self._accepted and not self._opener and self._error is None:
            self._accepted = True
            self._sink.send_frame(OpenOk(self.id, self._initial_window))

    def fail_open(self, reason: OpenFailReason, detail: str = "") -> None:
        """Answer the peer's OPEN with OPEN_OK's opposite: the target cannot be reached."""
        if self._accepted or self._opener or self._error is not None:
            raise StreamError("the stream was already accepted")
        self._sink.send_frame(OpenFail(self.id, reason, detail))
        self._abort(StreamResetError(f"open failed: {reason}"))

    def read_nowait(self, n: int = -1) -> bytes | None:
        """Up to ``n`` buffered bytes (all if ``n < 0``), b"" at EOF, None if none yet."""
        if self._error is not None:
            raise self._error
        self.accept()
        if not self._buffer:
            return b"" if self._eof_in else None
        if n < 0 or n >= self._buffered:
            data = b"".join(self._buffer)
            self._buffer.clear()
        else:
            parts: list[bytes] = []
            need = n
            while need:
                head = self._buffer[0]
                if len(head) <= need:
                    parts.append(self._buffer.popleft())
                    need -= len(head)
                else:
                    parts.append(head[:need])
                    self._buffer[0] = head[need:]
                    need = 0
            data = b"".join(parts)
        self._buffered -= len(data)
        self._consumed += len(data)
        self._grant_credit()
        return data

    async def read(self, n: int = -1) -> bytes:
        """Wait for data; b"" once the peer has half-closed and everything was read."""
        while (data := self.read_nowait(n)) is None:
            self._readable.clear()
            await self._readable.wait()
        return data

    async def wait_buffered(self) -> None:
        """Wait until received bytes (or the peer's end) wait to be read, without reading
        them and without accepting the stream: no OPEN_OK goes out (a pipelined opener's
        first bytes arrive before it)."""
        while not self._buffer and not self._eof_in and self._error is None:
            self._readable.clear()
            await self._readable.wait()

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes; :class:`asyncio.IncompleteReadError` at an early EOF."""
        parts: list[bytes] = []
        got = 0
        while got < n:
            chunk = await self.read(n - got)
            if not chunk:
                raise asyncio.IncompleteReadError(b"".join(parts), n)
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def write_nowait(self, data: bytes | bytearray | memoryview) -> int:
        """Queue as much of ``data`` as credit and queue space allow; the count taken."""
        take = self._queue_data(data)
        if take:
            self._sink.schedule(self)
        return take

    def _queue_data(self, data: bytes | bytearray | memoryview) -> int:
        if self._error is not None:
            raise self._error
        if self._eof_out:
            raise StreamError("write after write_eof")
        self.accept()
        if self._tuner is not None:
            self._tuner.sent_data()  # a request going out: its answer will share the link
        size = len(data)
        if type(data) is bytes and size <= MAX_CHUNK and size <= self._credit:
            take = min(size, MAX_BUFFER - self._outbox_bytes)
            if take == size:  # the common small write: no view, no copy
                if take:
                    self._outbox.append(Data(self.id, data))
                    self._credit -= take
                    self._outbox_bytes += take
                    self.bytes_out += take
                return take
        view = memoryview(data).cast("B")
        take = min(len(view), self._credit, MAX_BUFFER - self._outbox_bytes)
        for start in range(0, take, MAX_CHUNK):
            self._outbox.append(Data(self.id, bytes(view[start : min(start + MAX_CHUNK, take)])))
        if take:
            self._credit -= take
            self._outbox_bytes += take
            self.bytes_out += take
        return take

    def write_now(self, data: bytes | bytearray | memoryview) -> int:
        """Like :meth:`write_nowait`, but sent at once if the session's transport is free.

        For callbacks (no task to wait in): the frames go out from here when nothing else
        waits for the transport, else the writer task sends them in its turn.
        """
        taken = self._queue_data(data)
        if taken:
            self._sink.send_now(self)
        return taken

    def write_eof_now(self) -> None:
        """Like :meth:`write_eof_nowait`, but sent at once if the transport is free."""
        if self._eof_out or self._error is not None:
            return
        self.accept()
        self._eof_out = True
        self._outbox.append(Close(self.id))
        self._sink.send_now(self)

    def attach(self, receiver: StreamReceiver) -> None:
        """Hand incoming bytes to ``receiver`` as they arrive (then :meth:`read` gets none).

        Bytes already buffered are handed over at once, and the end if it came already.
        Credit is granted as bytes are handed over; the receiver calls
        :meth:`hold_credit` while it cannot pass them on (its socket buffer is full), so
        the peer can never have more than a window in flight towards it.
        """
        if self._error is not None:
            raise self._error
        self.accept()
        self._receiver = receiver
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer.clear()
            self._buffered = 0
            self._consumed += len(data)
            receiver.stream_data(data)
            self._grant_credit()
        if self._eof_in:
            receiver.stream_eof()
        if self._released:
            receiver.stream_ended(self._error)

    def hold_credit(self, held: bool) -> None:
        """While held, bytes handed to the receiver earn the peer no new credit."""
        self._credit_held = held
        if not held:
            self._grant_credit()

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue all of ``data``, waiting for credit from the peer as needed."""
        view = memoryview(data).cast("B")
        while view:
            taken = self.write_nowait(view)
            view = view[taken:]
            if taken:
                await self._sink.flush(self)
            if view:
                if self._credit == 0:
                    self.credit_stalls += 1
                self._writable.clear()
                await self._writable.wait()

    async def drain(self) -> None:
        """Wait until the writer has taken every queued frame."""
        while self._outbox and self._error is None:
            self._writable.clear()
            await self._writable.wait()
        if self._error is not None:
            raise self._error

    def write_eof_nowait(self) -> None:
        """Half-close: queue CLOSE after the data already queued."""
        if self._eof_out or self._error is not None:
            return
        self.accept()
        self._eof_out = True
        self._outbox.append(Close(self.id))
        self._sink.schedule(self)

    async def write_eof(self) -> None:
        """Half-close our direction; the peer reads b"" after our last byte."""
        self.write_eof_nowait()
        await self._sink.flush(self)

    def reset(self, reason: str = "") -> None:
        """Abort both directions at once: queued and buffered data are dropped."""
        if self._released:
            return
        self._sink.send_frame(Reset(self.id, reason))
        self._abort(StreamResetError(f"stream reset{': ' + reason if reason else ''}"))

    async def close(self, timeout: float = 10.0) -> None:
        """Half-close, discard what the peer still sends until its CLOSE, then done.

        A peer that does not close within ``timeout`` seconds is reset.
        """
        if self._released:
            return
        if not self._accepted and not self._opener:
            self.fail_open(OpenFailReason.ERROR, "closed before accepting")
            return
        self.write_eof_nowait()
        try:
            async with asyncio.timeout(timeout):
                while await self.read(MAX_BUFFER):
                    pass
                await self._done.wait()
        except StreamError:
            return
        except TimeoutError:
            self.reset("close timed out")

    async def wait_open(self) -> None:
        """Wait for the peer's OPEN_OK; :class:`OpenFailedError` if it sent OPEN_FAIL."""
        while not self._accepted and self._error is None:
            self._writable.clear()
            await self._writable.wait()
        if self._error is not None:
            raise self._error

    async def wait_finished(self) -> None:
        """Return once the stream is closed both ways or reset."""
        await self._done.wait()

    async def __aenter__(self) -> Stream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            await self.close()
        else:
            self.reset("error")

    # -- session side --------------------------------------------------------------------

    def take_frame(self) -> Frame | None:
        """The writer takes the next outbox frame (None if the outbox is empty)."""
        if not self._outbox:
            return None
        frame = self._outbox.popleft()
        if isinstance(frame, Data):
            self._outbox_bytes -= len(frame.data)
        elif isinstance(frame, Close):
            self._eof_flushed = True
            self._release_if_done()
        self._wake_writer()
        return frame

    @property
    def has_outgoing(self) -> bool:
        return bool(self._outbox)

    @property
    def open_credit(self) -> int:
        """Credit our OPEN took before the peer's OPEN_OK (0 without pipelined open)."""
        return self._open_credit

    def on_open_ok(self, window: int) -> None:
        """The peer accepted; its ``window`` includes the credit we started with."""
        self._accepted = True
        self._wake_writer()
        if window > self._open_credit:
            self.on_credit(window - self._open_credit)

    def on_data(self, data: bytes) -> None:
        if self._released:
            return
        if self._eof_in:
            self._violation(StreamResetError("DATA after CLOSE"))
            return
        if len(data) > self._window:
            self._violation(FlowControlError(f"{len(data)} bytes beyond credit {self._window}"))
            return
        if self._tuner is not None:
            self._tuner.saw_data()
        if self._receiver is not None:
            self._window -= len(data)
            self.bytes_in += len(data)
            self._consumed += len(data)
            self._receiver.stream_data(data)
            self._grant_credit()
        else:
            self._window -= len(data)
            self._buffer.append(data)
            self._buffered += len(data)
            self.bytes_in += len(data)
            self._readable.set()

    def on_credit(self, increment: int) -> None:
        if self._released:
            return
        if self._credit + self._outbox_bytes + increment > MAX_U32:
            self._violation(FlowControlError("credit window beyond 4 GiB"))
            return
        self._credit += increment
        self._wake_writer()

    def on_close(self) -> None:
        self._eof_in = True
        self._readable.set()
        if self._receiver is not None:
            self._receiver.stream_eof()
        self._release_if_done()

    def on_reset(self, reason: str) -> None:
        self._abort(StreamResetError(f"reset by peer{': ' + reason if reason else ''}"))

    def abort(self, error: StreamError) -> None:
        """The session ended: fail every waiter with ``error``, send nothing."""
        self._abort(error)

    # -- internals -----------------------------------------------------------------------

    def _wake_writer(self) -> None:
        self._writable.set()
        if self.on_writable is not None:
            self.on_writable()

    def _grant_credit(self) -> None:
        if self._eof_in or self._released or self._consumed < self._size // 2:
            return
        if self._credit_held:
            return
        size = self._size if self._tuner is None else self._tuner.update(self._consumed)
        # consumed >= old size / 2 and a shrink at most halves: never negative.
        increment = self._consumed + size - self._size
        self._size = size
        self._consumed = 0
        if increment > 0:
            self._sink.send_frame(Credit(self.id, increment))
            self._window += increment

    def _violation(self, error: FlowControlError | StreamResetError) -> None:
        self._sink.send_frame(Reset(self.id, str(error)))
        if isinstance(error, FlowControlError):
            error = StreamResetError(f"flow control: {error}")
        self._abort(error)

    def _abort(self, error: StreamError) -> None:
        if self._error is None:
            self._error = error
        self._buffer.clear()
        self._buffered = 0
        self._outbox.clear()
        self._outbox_bytes = 0
        self._release()

    def _release_if_done(self) -> None:
        if self._eof_in and self._eof_flushed:
            self._release()

    def _release(self) -> None:
        self._readable.set()
        self._writable.set()
        if not self._released:
            self._released = True
            if self._tuner is not None:
                self._tuner.release()
            self._done.set()
            self._sink.release(self)
            if self._receiver is not None:
                self._receiver.stream_ended(self._error)
            if self.on_writable is not None:
                self.on_writable()


def fail_open_or_reset(stream: Stream, exc: BaseException) -> None:
    """A stream handler failed: OPEN_FAIL with a fitting reason if not yet accepted."""
    if stream.finished:
        return
    if stream.accepted:
        stream.reset(type(exc).__name__)
        return
    reason = OpenFailReason.ERROR
    if isinstance(exc, TimeoutError):
        reason = OpenFailReason.TIMEOUT
    elif isinstance(exc, OSError):
        reason = OpenFailReason.UNREACHABLE
    stream.fail_open(reason, str(exc) or type(exc).__name__)
