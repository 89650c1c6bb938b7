"""The processes of the single-tunnel benchmark: ``python -m bench._nodes ROLE [args]``.

* ``target``: an echo server, a source server (send N bytes on request) and a sink
  (read to EOF, answer the count as u64) on loopback.
* ``webui``: the simulated CCU (:mod:`simulator.ccu`); prints its WebUI port.
* ``gateway CERTS NAME=tcp://host:port ... [v1]``: an aiohttp TLS server (client
  certificate required) serving ``/tunnel/v1`` with :class:`GatewaySession`, and per NAME
  a TCP listener whose connections become tunnel streams to that target
  (:class:`~tunnel.tcp_splice.TcpSplice` as the connection's protocol). With ``v1`` the
  gateway behaves as before ADR 0016: fixed windows, no pipelined open (for A/B runs).
* ``device CERTS URL``: a :class:`TunnelConnector` whose ``on_open`` splices each stream
  to its ``tcp://`` target (:func:`~tunnel.tcp_splice.splice_tcp`).

The ends run on the loops the product uses (:mod:`bench._loop`, ``BENCH_TUNNEL_LOOP``).

Each node prints JSON lines on stdout (its ports, then events) and ends when its stdin
closes, so no node outlives the benchmark.
"""

from __future__ import annotations

import asyncio
import cProfile
import functools
import json
import logging
import os
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench._certs import device_context, gateway_context
from bench._loop import run_end
from bench._splice import READ_SIZE, nodelay, parse_target
from tunnel.cliutil import prepare_tunnel_end
from tunnel.clock import SystemClock
from tunnel.connector import TunnelConnector
from tunnel.frames import PROTOCOL_VERSIONS, Hello
from tunnel.streams import Stream
from tunnel.tcp_splice import TcpSplice, splice_tcp

if TYPE_CHECKING:
    from aiohttp import web

    from tunnel.gateway_end import GatewaySession

__all__ = ["HELLO", "emit", "main", "stdin_closed"]

HELLO = Hello(
    versions=PROTOCOL_VERSIONS, capabilities=("telemetry",), software="bench", device_kind="ccu"
)
SIZE = struct.Struct("!Q")
_CHUNK = bytes(1024 * 1024)


def emit(**event: Any) -> None:
    """One JSON line for the parent."""
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


async def stdin_closed() -> None:
    """Return when the parent closes our stdin (or dies)."""
    await asyncio.to_thread(sys.stdin.read)


# -- target ------------------------------------------------------------------------------


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    nodelay(writer)
    try:
        while data := await reader.read(READ_SIZE):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def _source(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read a u64 size, send that many bytes, close."""
    nodelay(writer)
    view = memoryview(_CHUNK)
    try:
        (remaining,) = SIZE.unpack(await reader.readexactly(SIZE.size))
        while remaining:
            take = min(remaining, len(view))
            writer.write(view[:take])
            await writer.drain()
            remaining -= take
        await reader.read()  # the client closes once it has everything
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def _sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read to EOF, then answer the byte count (u64) and close."""
    nodelay(writer)
    total = 0
    try:
        while data := await reader.read(READ_SIZE):
            total += len(data)
        writer.write(SIZE.pack(total))
        await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def target() -> None:
    echo = await asyncio.start_server(_echo, "127.0.0.1", 0)
    source = await asyncio.start_server(_source, "127.0.0.1", 0)
    sink = await asyncio.start_server(_sink, "127.0.0.1", 0)
    emit(
        echo=echo.sockets[0].getsockname()[1],
        source=source.sockets[0].getsockname()[1],
        sink=sink.sockets[0].getsockname()[1],
    )
    await stdin_closed()


async def webui() -> None:
    from simulator.ccu.server import SimulatedCcu  # noqa: PLC0415 - aiohttp only here

    async with SimulatedCcu() as ccu:
        emit(webui=ccu.webui_port)
        await stdin_closed()


# -- gateway -----------------------------------------------------------------------------


async def gateway(certs: Path, forwards: dict[str, str], *, v1: bool = False) -> None:
    # Imported here: the device node must not load aiohttp, as the product's device does not.
    from aiohttp import web  # noqa: PLC0415

    from tunnel.gateway_end import GatewaySession  # noqa: PLC0415
    from tunnel.window import WindowBudget  # noqa: PLC0415
    from tunnel.ws import AIOHTTP_MAX_MSG_SIZE, PushWebSocketTransport  # noqa: PLC0415

    prepare_tunnel_end()
    loop = asyncio.get_running_loop()
    current: asyncio.Future[GatewaySession] = loop.create_future()

    async def tunnel_v1(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=AIOHTTP_MAX_MSG_SIZE, compress=False)
        await ws.prepare(request)
        transport = PushWebSocketTransport.for_request(ws, request)
        session = GatewaySession(
            transport,
            heartbeat=15.0,
            window_budget=WindowBudget(limit=0) if v1 else None,
            pipelined_open=not v1,
        )
        await session.receive_hello()
        await session.accept(session_id="bench", capabilities=("telemetry",))
        if not current.done():
            current.set_result(session)
            emit(connected=True)
        await session.run()
        return ws

    opening: set[asyncio.Task[None]] = set()

    class Forward(TcpSplice):
        """An accepted connection: open a stream to ``target``, then splice."""

        def __init__(self, target: str) -> None:
            super().__init__()
            self.target = target

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            task = asyncio.create_task(self._open(), name=f"open {self.target}")
            opening.add(task)
            task.add_done_callback(opening.discard)

        async def _open(self) -> None:
            session = await current
            try:
                self.attach(await session.open_stream(self.target, pipelined=True))
            except (OSError, TimeoutError):
                self.abort("open failed")

    app = web.Application()
    app.router.add_get("/tunnel/v1", tunnel_v1)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=gateway_context(certs))
    await site.start()
    ports = {}
    servers = []
    for name, target_url in forwards.items():
        server = await loop.create_server(functools.partial(Forward, target_url), "127.0.0.1", 0)
        servers.append(server)
        ports[name] = server.sockets[0].getsockname()[1]
    emit(url=f"wss://127.0.0.1:{runner.addresses[0][1]}/tunnel/v1", forwards=ports)
    await stdin_closed()
    if current.done():
        await current.result().close()
    await runner.cleanup()


# -- device ------------------------------------------------------------------------------


async def splice_to_target(stream: Stream) -> None:
    """The device's ``on_open``: connect to the stream's target and copy both ways."""
    host, port = parse_target(stream.target)
    await splice_tcp(stream, host, port)


async def device(certs: Path, url: str) -> None:
    prepare_tunnel_end()  # as ccu-addon and inverter-agent do before their loop
    connector = TunnelConnector(
        url=url,
        ssl_context=device_context(certs),
        hello=HELLO,
        clock=SystemClock(),
        on_open=splice_to_target,
        name="bench-device",
    )
    runner = asyncio.create_task(connector.run(), name="connector")
    await connector.wait_connected()
    emit(connected=True)
    await stdin_closed()
    await connector.stop()
    await runner


def main(argv: list[str]) -> None:
    """Run one role; with ``BENCH_PROFILE=DIR`` under cProfile, stats to ``DIR/ROLE.prof``."""
    logging.basicConfig(level=logging.ERROR)  # a session ending at teardown is no news
    profile_dir = os.environ.get("BENCH_PROFILE")
    if profile_dir:
        profiler = cProfile.Profile()
        try:
            profiler.runcall(_run_role, argv)
        finally:
            profiler.dump_stats(str(Path(profile_dir) / f"{argv[0]}.prof"))
    else:
        _run_role(argv)


def _run_role(argv: list[str]) -> None:
    role, *args = argv
    if role == "target":
        asyncio.run(target())
    elif role == "webui":
        asyncio.run(webui())
    elif role == "gateway":
        forwards = dict(arg.split("=", 1) for arg in args[1:] if "=" in arg)
        run_end(gateway(Path(args[0]), forwards, v1="v1" in args[1:]), role)
    elif role == "device":
        run_end(device(Path(args[0]), args[1]), role)
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
