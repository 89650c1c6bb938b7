"""A TCP relay on 127.0.0.1:0 that a test can cut, hold, refuse and point elsewhere.

It stands for the network (or a load balancer) between a device and the gateway::

    device ──► 127.0.0.1:proxy.port ──► proxy.target (host, port)      one relay per connection

- :meth:`TcpProxy.cut` aborts every relayed connection on both sides (RST), like a dead link.
- :meth:`TcpProxy.refuse`: new connections are reset as soon as they arrive (the link is down).
- :meth:`TcpProxy.hold`: new connections are accepted but not connected onwards until
  :meth:`TcpProxy.forward`; then they go to the target of that moment (a load balancer that
  waits for a backend, within the client's connect timeout).
- :meth:`TcpProxy.forward`: relay new connections (the default).
- ``downstream_delay_s`` delays every chunk from the target to the client (a slow WAN path for
  answers, e.g. ACKs); :meth:`TcpProxy.stall_answers` keeps them back altogether until
  :meth:`TcpProxy.pass_answers` (answers that are certainly still on their way). When either
  side of a relay ends, the other is aborted at once and the bytes still in the delay line are
  lost, as when a backend dies behind a load balancer.

Everything it started is stopped by :meth:`TcpProxy.close` (or ``async with``).
"""

from __future__ import annotations

import asyncio
import contextlib
from enum import StrEnum
from types import TracebackType
from typing import Self

__all__ = ["ProxyMode", "TcpProxy"]

_CHUNK = 65536


class ProxyMode(StrEnum):
    """What happens to a new connection."""

    FORWARD = "forward"
    HOLD = "hold"
    REFUSE = "refuse"


class _Relay:
    """One client connection and, once connected, its upstream connection."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()


class TcpProxy:
    """Relays TCP connections from ``127.0.0.1:port`` to :attr:`target`."""

    def __init__(
        self, target: tuple[str, int] | None = None, *, downstream_delay_s: float = 0.0
    ) -> None:
        self.target = target
        """Where new connections go; ``None``: nowhere (they are reset)."""
        self.downstream_delay_s = downstream_delay_s
        self.port = 0
        self.accepted = 0
        """Connections accepted so far."""
        self.relayed = 0
        """Connections connected through to a target so far."""
        self.cuts = 0
        """Relays aborted by :meth:`cut`."""
        self._mode = ProxyMode.FORWARD
        self._mode_changed = asyncio.Event()
        self._answers = asyncio.Event()
        self._answers.set()
        self._server: asyncio.Server | None = None
        self._relays: set[_Relay] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def mode(self) -> ProxyMode:
        return self._mode

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def cut(self) -> int:
        """Abort every relayed (or held) connection on both sides; how many there were."""
        relays = list(self._relays)
        for relay in relays:
            relay.abort()
        self.cuts += len(relays)
        return len(relays)

    def refuse(self) -> None:
        """Reset new connections at once (held ones too)."""
        self._set_mode(ProxyMode.REFUSE)

    def hold(self) -> None:
        """Accept new connections but keep them waiting until :meth:`forward`."""
        self._set_mode(ProxyMode.HOLD)

    def forward(self) -> None:
        """Relay new connections (and the held ones) to :attr:`target`."""
        self._set_mode(ProxyMode.FORWARD)

    def stall_answers(self) -> None:
        """Keep every chunk from the target to the client back, from now on, until
        :meth:`pass_answers`; a relay that ends meanwhile loses what it kept back."""
        self._answers.clear()

    def pass_answers(self) -> None:
        """Deliver the answers again (the kept-back ones first)."""
        self._answers.set()

    async def close(self) -> None:
        """Stop listening, abort every connection, wait for every task."""
        if self._server is not None:
            self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    # --- internals -------------------------------------------------------------------------

    def _set_mode(self, mode: ProxyMode) -> None:
        self._mode = mode
        self._mode_changed.set()
        self._mode_changed = asyncio.Event()

    def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        relay = _Relay(writer)
        self._relays.add(relay)
        task = asyncio.create_task(self._serve(relay, reader), name=f"proxy relay {self.accepted}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, relay: _Relay, client_reader: asyncio.StreamReader) -> None:
        try:
            while self._mode is ProxyMode.HOLD:
                await self._mode_changed.wait()
            target = self.target
            if self._mode is ProxyMode.REFUSE or target is None:
                return
            try:
                up_reader, relay.upstream = await asyncio.open_connection(*target)
            except OSError:
                return
            self.relayed += 1
            async with asyncio.TaskGroup() as group:
                group.create_task(self._pump(client_reader, relay.upstream, 0.0, relay))
                group.create_task(
                    self._pump(
                        up_reader, relay.client, self.downstream_delay_s, relay, self._answers
                    )
                )
        finally:
            relay.abort()
            self._relays.discard(relay)

    @staticmethod
    async def _pump(
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        delay: float,
        relay: _Relay,
        gate: asyncio.Event | None = None,
    ) -> None:
        """Copy ``src`` to ``dst`` (each chunk ``delay`` late, and only while ``gate`` is set);
        at the end abort the relay."""
        loop = asyncio.get_running_loop()
        line: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await line.get()
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if gate is not None:
                    await gate.wait()
                dst.write(chunk)
                await dst.drain()

        writer = asyncio.create_task(deliver()) if delay > 0 or gate is not None else None
        try:
            with contextlib.suppress(OSError):
                while chunk := await src.read(_CHUNK):
                    if writer is None:
                        dst.write(chunk)
                        await dst.drain()
                    elif writer.done():
                        break
                    else:
                        line.put_nowait((loop.time() + delay, chunk))
        finally:
            relay.abort()
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await writer
