"""The streams of one session: id allocation, OPEN handling and frame dispatch.

Stream ids say who opened a stream: the gateway uses odd ids, the device even ones, so
both ends can open streams without colliding (protocol v1 devices only accept). Ids are
never reused within a session. Frames for an id that is no longer known (late DATA or
CREDIT after a RESET crossed it on the wire) are dropped silently.

The table is synchronous: it needs a :class:`FrameQueue` (the session writer) and
nothing else, which lets the flow-control state machine test drive two tables directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, Protocol

from tunnel.errors import OpenFailedError, ProtocolError, StreamError
from tunnel.frame_types import MAX_U32
from tunnel.frames import (
    Close,
    Credit,
    Data,
    Frame,
    OpenFail,
    OpenFailReason,
    OpenOk,
    OpenStream,
    Reset,
)
from tunnel.streams import INITIAL_WINDOW, MAX_BUFFER, Stream
from tunnel.window import TunnelWindows

__all__ = ["MAX_STREAMS", "OPEN_CREDIT", "PIPELINED_OPEN", "FrameQueue", "StreamTable"]

MAX_STREAMS: Final = 512
"""Streams open at once per session; more incoming OPENs get OPEN_FAIL(overloaded)."""
PIPELINED_OPEN: Final = "pipelined_open"
"""Capability: the opener may send DATA and CLOSE right after OPEN, before OPEN_OK."""
OPEN_CREDIT: Final = 64 * 1024
"""What a pipelined opener may send before OPEN_OK; an accepter offering
:data:`PIPELINED_OPEN` has an initial window at least this large."""


class FrameQueue(Protocol):
    """The session writer, as seen from the stream table."""

    def send_frame(self, frame: Frame) -> None:
        """Queue a frame ahead of stream data."""

    def schedule(self, stream: Stream) -> None:
        """Serve this stream's outbox in the round-robin."""


class StreamTable:
    """All live streams of one session end."""

    def __init__(
        self,
        queue: FrameQueue,
        *,
        odd_ids: bool,
        window: int = INITIAL_WINDOW,
        max_streams: int = MAX_STREAMS,
        windows: TunnelWindows | None = None,
        open_credit: int = 0,
    ) -> None:
        if not 0 < window <= MAX_BUFFER:
            raise ValueError(f"window must be within 1..{MAX_BUFFER}")
        if windows is not None and windows.initial != window:
            raise ValueError("the tuned windows must start at the table's window")
        self._queue = queue
        self._windows = windows
        self.open_credit = open_credit
        """Bytes a stream we open may send before the peer's OPEN_OK: 0, or
        :data:`OPEN_CREDIT` once both ends agreed on :data:`PIPELINED_OPEN`."""
        # A session writer can take a writing task's frames itself (the fast path); a
        # plain FrameQueue (the state-machine test's wire) cannot, and needs not.
        self._flush: Callable[[Stream], Awaitable[None]] | None = getattr(queue, "flush", None)
        self._send_now: Callable[[Stream], None] | None = getattr(queue, "send_now", None)
        self._odd = odd_ids
        self._next_id = 1 if odd_ids else 2
        self._window = window
        self._max_streams = max_streams
        self._streams: dict[int, Stream] = {}
        self._opening: dict[int, Stream] = {}
        self.opened_total = 0
        """Streams ever created in this session, both directions."""
        self._finished_stalls = 0

    def __len__(self) -> int:
        return len(self._streams)

    @property
    def streams(self) -> list[Stream]:
        """The live streams (a copy)."""
        return list(self._streams.values())

    @property
    def credit_stalls(self) -> int:
        """Writes that waited for credit, over live and finished streams."""
        return self._finished_stalls + sum(s.credit_stalls for s in self._streams.values())

    def get(self, stream_id: int) -> Stream | None:
        return self._streams.get(stream_id)

    # -- StreamSink ----------------------------------------------------------------------

    def send_frame(self, frame: Frame) -> None:
        self._queue.send_frame(frame)

    def schedule(self, stream: Stream) -> None:
        self._queue.schedule(stream)

    async def flush(self, stream: Stream) -> None:
        if self._flush is not None:
            await self._flush(stream)

    def send_now(self, stream: Stream) -> None:
        if self._send_now is not None:
            self._send_now(stream)
        else:
            self._queue.schedule(stream)

    def release(self, stream: Stream) -> None:
        if self._streams.get(stream.id) is stream:
            del self._streams[stream.id]
            self._finished_stalls += stream.credit_stalls
        self._opening.pop(stream.id, None)

    # -- opening -------------------------------------------------------------------------

    def open(self, target: str) -> Stream:
        """Create a stream and queue its OPEN; ``await stream.wait_open()`` for the answer."""
        if self._next_id > MAX_U32:
            raise StreamError("stream ids of this session are used up")
        stream = self._new_stream(self._next_id, target, open_credit=self.open_credit)
        self._next_id += 2
        self._streams[stream.id] = stream
        self._opening[stream.id] = stream
        self.opened_total += 1
        self._queue.send_frame(OpenStream(stream.id, target, stream.window_size))
        return stream

    def incoming(self, frame: OpenStream) -> Stream | None:
        """A stream the peer opens; None if it was refused at once (too many streams)."""
        if (frame.stream_id % 2 == 1) == self._odd:
            raise ProtocolError(f"peer opened stream {frame.stream_id} with our id parity")
        if frame.stream_id in self._streams:
            raise ProtocolError(f"stream {frame.stream_id} is already open")
        if len(self._streams) >= self._max_streams:
            self._queue.send_frame(OpenFail(frame.stream_id, OpenFailReason.OVERLOADED))
            return None
        stream = self._new_stream(frame.stream_id, frame.target)
        self._streams[stream.id] = stream
        self.opened_total += 1
        if frame.window:
            stream.on_credit(frame.window)
        return stream

    def _new_stream(self, stream_id: int, target: str, open_credit: int | None = None) -> Stream:
        # Alone on the tunnel: the tuner may give the stream a head start (tunnel/window.py).
        tuner = None if self._windows is None else self._windows.tuner(alone=not self._streams)
        return Stream(
            self,
            stream_id,
            target,
            window=self._window if tuner is None else tuner.size,
            accepted=False,
            tuner=tuner,
            open_credit=open_credit,
        )

    # -- dispatch ------------------------------------------------------------------------

    def dispatch(self, frame: Frame) -> None:
        """Apply OPEN_OK, OPEN_FAIL, DATA, CREDIT, CLOSE or RESET to its stream."""
        stream = self._streams.get(getattr(frame, "stream_id", 0))
        if stream is None:
            return
        match frame:
            case OpenOk(window=window):
                if self._opening.pop(stream.id, None) is None:
                    raise ProtocolError(f"OPEN_OK for stream {stream.id} that was not opening")
                if window < stream.open_credit:
                    raise ProtocolError(
                        f"OPEN_OK window {window} below the pipelined open's {stream.open_credit}"
                    )
                stream.on_open_ok(window)
            case OpenFail(reason=reason, detail=detail):
                if self._opening.pop(stream.id, None) is None:
                    raise ProtocolError(f"OPEN_FAIL for stream {stream.id} that was not opening")
                stream.abort(OpenFailedError(stream.target, reason, detail))
            case Data(data=data):
                if stream.id in self._opening:
                    raise ProtocolError(f"DATA on stream {stream.id} before OPEN_OK")
                stream.on_data(data)
            case Credit(increment=increment):
                stream.on_credit(increment)
            case Close():
                stream.on_close()
            case Reset(reason=reason):
                stream.on_reset(reason)
            case _:
                raise ProtocolError(f"{frame.TYPE.name} is not a stream frame")

    def abort_all(self, error: StreamError) -> None:
        """The session ended: fail every stream with ``error``."""
        for stream in list(self._streams.values()):
            stream.abort(error)
        self._streams.clear()
        self._opening.clear()
