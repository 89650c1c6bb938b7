"""The message transport a tunnel session runs over, and an in-memory pair of them.

A session needs only whole binary messages in order: :class:`MessageTransport` is that
and nothing more. :mod:`tunnel.ws` adapts aiohttp WebSockets to it (the gateway's side),
:mod:`tunnel.ws_client` is the device's own light WebSocket client; :func:`memory_pair`
connects two ends in memory for tests and benchmarks (bounded queues, so a slow reader
pushes back on its writer like a socket would).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Final, Protocol, cast, runtime_checkable

from tunnel.errors import SessionClosedError
from tunnel.frames import HEADER, MAX_PAYLOAD

__all__ = [
    "MAX_MESSAGE",
    "EagerSender",
    "MemoryTransport",
    "MessageTransport",
    "PushTransport",
    "abilities",
    "memory_pair",
    "stream_transport",
]

MAX_MESSAGE: Final = HEADER.size + MAX_PAYLOAD
"""Largest WebSocket message a session sends or accepts."""


@runtime_checkable
class MessageTransport(Protocol):
    """Ordered, reliable delivery of whole binary messages."""

    async def send(self, message: bytes) -> None:
        """Send one message; :class:`SessionClosedError` once the transport is closed."""
        ...

    async def receive(self) -> bytes:
        """The next message; :class:`SessionClosedError` at the end (``clean`` if orderly)."""
        ...

    async def close(self) -> None:
        """Close both directions; idempotent."""
        ...


@runtime_checkable
class EagerSender(Protocol):
    """A transport that can also send without waiting, from a callback."""

    def send_nowait(self, message: bytes) -> bool:
        """Send now if that needs no waiting; False (nothing sent) if it would wait.

        :class:`SessionClosedError` once the transport is closed.
        """
        ...

    @property
    def writable(self) -> bool:
        """:meth:`send_nowait` would send now."""
        ...


@runtime_checkable
class PushTransport(MessageTransport, EagerSender, Protocol):
    """A transport that can also hand messages to a callback as they arrive.

    The session uses it to dispatch frames from the transport's ``data_received`` and to
    send from the callback that produced the frame, without a task hop either way
    (:class:`tunnel.ws_client.WebSocketClient`).
    """

    def set_receiver(self, receiver: Callable[[bytes], None] | None) -> None:
        """Call ``receiver`` with each message; ``receive()`` then only waits for the end."""
        ...

    def pause_receiving(self) -> None:
        """The receiver is behind: stop reading until :meth:`resume_receiving`."""
        ...

    def resume_receiving(self) -> None: ...


class _Pipe:
    """One direction: a bounded FIFO of messages that can be closed."""

    __slots__ = ("capacity", "changed", "closed", "items")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: deque[bytes] = deque()
        self.closed = False
        self.changed = asyncio.Event()

    async def wait(self) -> None:
        self.changed.clear()
        await self.changed.wait()

    def close(self) -> None:
        self.closed = True
        self.changed.set()


class MemoryTransport:
    """One end of :func:`memory_pair`."""

    def __init__(self, outgoing: _Pipe, incoming: _Pipe) -> None:
        self._out = outgoing
        self._in = incoming
        self.sent = 0
        """Messages sent so far."""

    async def send(self, message: bytes) -> None:
        while not self._out.closed and len(self._out.items) >= self._out.capacity:
            await self._out.wait()
        if self._out.closed:
            raise SessionClosedError("memory transport closed", clean=True)
        self._out.items.append(bytes(message))
        self._out.changed.set()
        self.sent += 1

    async def receive(self) -> bytes:
        while not self._in.items:
            if self._in.closed:
                raise SessionClosedError("memory transport closed", clean=True)
            await self._in.wait()
        message = self._in.items.popleft()
        self._in.changed.set()
        return message

    async def close(self) -> None:
        self._out.close()
        self._in.items.clear()
        self._in.close()


def memory_pair(capacity: int = 16) -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected transports; each direction buffers at most ``capacity`` messages."""
    a_to_b, b_to_a = _Pipe(capacity), _Pipe(capacity)
    return MemoryTransport(a_to_b, b_to_a), MemoryTransport(b_to_a, a_to_b)


_STREAM_METHODS: Final = (
    "write",
    "write_eof",
    "can_write_eof",
    "pause_reading",
    "resume_reading",
    "get_write_buffer_size",
    "get_write_buffer_limits",
    "is_closing",
    "abort",
)


def stream_transport(transport: object) -> asyncio.Transport | None:
    """``transport`` as a stream transport, or None if it is not one.

    asyncio's own transports subclass :class:`asyncio.Transport`; uvloop's implement the
    same methods without subclassing it, so they are recognised by those methods.
    """
    if isinstance(transport, asyncio.Transport):
        return transport
    if all(callable(getattr(transport, name, None)) for name in _STREAM_METHODS):
        return cast(asyncio.Transport, transport)
    return None


_ABILITIES: dict[type, tuple[bool, bool]] = {}


def abilities(transport: MessageTransport) -> tuple[bool, bool]:
    """Whether ``transport`` is a :class:`PushTransport` and an :class:`EagerSender`.

    Cached per class: ``isinstance`` against a runtime-checkable protocol inspects every
    member (~40 µs each, on every session a gateway accepts during a reconnect storm), and
    the answer is a property of the class.
    """
    kind = type(transport)
    known = _ABILITIES.get(kind)
    if known is None:
        known = _ABILITIES[kind] = (
            isinstance(transport, PushTransport),
            isinstance(transport, EagerSender),
        )
    return known
