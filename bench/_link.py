"""An emulated WAN link: a TCP relay that delays and paces each direction.

The kernel here has no ``netem``, so the WAN bench puts this relay between the two ends
of every path. One link may carry several routes (listening port -> target port); all
connections of a link share its two directions, as the flows of one access line share
its bandwidth::

    python -m bench._link '{"rtt": 0.05, "jitter": 0.0, "down": 6.25e6, "up": 1.25e6}' 8080 8443h
    -> {"ports": [40001, 40002]}          # connect to 40001 to reach 8080 over the link

Per direction, a chunk read from one end is first *serialised* at the direction's rate
(a token bucket without burst: it leaves when the previous chunk has, plus its own size
over the rate), then *delivered* one-way delay later (half the RTT, plus a uniform jitter
of up to +/- ``jitter``/2), never before the chunk sent ahead of it: order is kept. The
bottleneck queue (bytes waiting to be serialised) is bounded at ``queue`` seconds of the
rate; above it the relay stops reading from its sockets, which pushes back on the sender
as a full router queue does (drop-tail without the drops: TCP sees delay, not loss).

The link is the home's access line, seen from the user: ``down`` is the rate of bytes
leaving the home (what the user downloads from the CCU), ``up`` of bytes going into it.
On a route to a target at home (the direct path: client -> CCU) the connecting side is
the user; a route whose port ends in ``h`` is connected to *from* home (the device or
``ssh -R`` dialling out to the gateway), so there the connecting side's bytes go ``down``.

With ``BENCH_LINK_TRACE=FILE`` the link records when each chunk started to cross and its
size, per direction, and writes them to FILE as JSON when it ends (:mod:`bench.wan_gap`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import socket
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["LinkProfile", "main"]

_CHUNK = 16 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkProfile:
    """The figures of one emulated link (rates in bytes per second)."""

    rtt: float
    down: float
    up: float
    jitter: float = 0.0
    queue: float = 0.05

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))


class Direction:
    """One direction of the link: a serialiser at ``rate`` and a delay line."""

    def __init__(self, rate: float, delay: float, jitter: float, queue: float) -> None:
        self._rate = rate
        self._delay = delay
        self._jitter = jitter
        self._limit = max(64 * 1024, int(rate * queue))
        self._busy_until = 0.0  # when the serialiser is free
        self._last_delivery = 0.0
        self.queued = 0
        self._paused: set[Relay] = set()
        self._random = random.Random(7)
        self.trace: list[tuple[float, int]] | None = None
        """With ``BENCH_LINK_TRACE``: (serialisation start, size) per chunk."""

    def send(self, data: bytes, to: Relay, sender: Relay) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for start in range(0, len(data), _CHUNK):
            chunk = data[start : start + _CHUNK]
            begin = max(now, self._busy_until)
            if self.trace is not None:
                self.trace.append((begin, len(chunk)))
            self._busy_until = begin + len(chunk) / self._rate
            jitter = self._jitter * (self._random.random() - 0.5)
            # Strictly later than the chunk ahead: timers due at the same instant may
            # run in any order.
            delivery = max(self._last_delivery + 1e-6, self._busy_until + self._delay + jitter)
            self._last_delivery = delivery
            self.queued += len(chunk)
            loop.call_at(self._busy_until, self._serialised, len(chunk))
            loop.call_at(delivery, to.deliver, chunk)
        if self.queued > self._limit:
            sender.pause()
            self._paused.add(sender)

    def send_eof(self, to: Relay) -> None:
        loop = asyncio.get_running_loop()
        delivery = max(self._last_delivery + 1e-6, loop.time() + self._delay)
        self._last_delivery = delivery
        loop.call_at(delivery, to.deliver_eof)

    def _serialised(self, size: int) -> None:
        self.queued -= size
        if self.queued <= self._limit // 2 and self._paused:
            for relay in self._paused:
                relay.resume()
            self._paused.clear()


class Relay(asyncio.Protocol):
    """One side of a relayed connection; ``peer`` is the other side."""

    def __init__(self, outgoing: Direction) -> None:
        self.outgoing = outgoing  # the direction our received bytes travel
        self.peer: Relay | None = None
        self.transport: asyncio.Transport | None = None
        self._early: list[bytes | None] = []  # delivered before we were connected
        self._eof_in = False
        self._eof_out = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for item in self._early:
            self.deliver(item) if item is not None else self.deliver_eof()
        self._early.clear()

    def data_received(self, data: bytes) -> None:
        if self.peer is not None:
            self.outgoing.send(data, self.peer, self)

    def eof_received(self) -> bool:
        self._eof_in = True
        if self.peer is not None:
            self.outgoing.send_eof(self.peer)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None and self.peer.transport is not None and exc is not None:
            self.peer.transport.abort()

    def deliver(self, chunk: bytes) -> None:
        if self.transport is None:
            self._early.append(chunk)
        elif not self.transport.is_closing():
            self.transport.write(chunk)

    def deliver_eof(self) -> None:
        if self.transport is None:
            self._early.append(None)
            return
        self._eof_out = True
        if self.transport.is_closing():
            return
        if self._eof_in:
            self.transport.close()
        else:
            self.transport.write_eof()
        peer = self.peer
        if peer is not None and peer._eof_out and peer.transport is not None:
            peer.transport.close()

    def pause(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()


async def _serve(
    profile: LinkProfile, targets: list[str], directions: tuple[Direction, Direction]
) -> list[int]:
    loop = asyncio.get_running_loop()
    from_home, to_home = directions
    ports = []
    for route in targets:
        target = int(route.rstrip("h"))
        home_dials = route.endswith("h")

        def accepted(target: int = target, home_dials: bool = home_dials) -> Relay:
            client = Relay(from_home if home_dials else to_home)
            server = Relay(to_home if home_dials else from_home)
            client.peer, server.peer = server, client
            task = loop.create_task(_dial(server, target))
            _pending.add(task)
            task.add_done_callback(_connected(client))
            return client

        listener = _small_socket()
        listener.bind(("127.0.0.1", 0))
        server = await loop.create_server(accepted, sock=listener)
        ports.append(server.sockets[0].getsockname()[1])
    return ports


_pending: set[asyncio.Task[Any]] = set()
_RCVBUF = 64 * 1024


def _small_socket() -> socket.socket:
    """A socket whose receive buffer is small from the start (set before connecting, so
    the window it advertises stays small): a paused relay must hold little in the
    kernel, or the bottleneck queue would hide megabytes there."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
    sock.setblocking(False)
    return sock


async def _dial(server: Relay, target: int) -> None:
    loop = asyncio.get_running_loop()
    sock = _small_socket()
    try:
        await loop.sock_connect(sock, ("127.0.0.1", target))
    except OSError:
        sock.close()
        raise
    await loop.create_connection(lambda: server, sock=sock)


def _connected(client: Relay) -> Any:
    def done(task: asyncio.Task[Any]) -> None:
        _pending.discard(task)
        if (task.cancelled() or task.exception() is not None) and client.transport is not None:
            client.transport.abort()

    return done


async def _main(profile: LinkProfile, targets: list[str], trace: str | None) -> None:
    one_way = profile.rtt / 2
    down = Direction(profile.down, one_way, profile.jitter, profile.queue)
    up = Direction(profile.up, one_way, profile.jitter, profile.queue)
    if trace:
        down.trace, up.trace = [], []
    ports = await _serve(profile, targets, (down, up))
    print(json.dumps({"ports": ports}), flush=True)
    await asyncio.to_thread(sys.stdin.read)
    if trace:  # the clock is time.monotonic(), shared with the bench's processes
        with open(trace, "w", encoding="utf-8") as out:  # noqa: PTH123, ASYNC230 - at exit
            json.dump({"down": down.trace, "up": up.trace}, out)


def main(argv: list[str]) -> None:
    figures = json.loads(argv[0])
    profile = LinkProfile(**figures)
    asyncio.run(_main(profile, argv[1:], os.environ.get("BENCH_LINK_TRACE")))


if __name__ == "__main__":
    main(sys.argv[1:])
