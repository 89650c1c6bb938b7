"""The processes of ``tunnel-scale``: ``python -m bench._scale_nodes ROLE [args]``.

* ``gateway CERTS PORT HOST[,HOST...]``: the gateway end only (aiohttp TLS server,
  client certificate required, :class:`GatewaySession` with the product's defaults) on
  PORT of each loopback HOST. Reads commands on stdin, one JSON line each:
  ``{"cmd": "stats"}`` -> ``{"rss_kib": ..., "sessions": ...}``;
  ``{"cmd": "accepts"}`` -> ``{"accepts": [monotonic instants of every WELCOME],
  "live": [WELCOME instants of the sessions running now], "refused": n}``. Like the
  product's ``/tunnel/v1`` it admits 64 handshakes at a time (:class:`HandshakeGate`).
* ``devices CERTS URL COUNT [RECONNECT_WINDOW]``: COUNT :class:`TunnelConnector` instances
  with the product's default backoff (the smoke run shortens its ``reconnect_window``),
  all to URL; ends when stdin closes.

Several loopback destination addresses (127.0.0.2, ...) give each device process its own
ephemeral port range. Both roles raise ``RLIMIT_NOFILE`` as far as they may.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

from aiohttp import web

from bench._certs import device_context, gateway_context
from bench._nodes import HELLO, emit, stdin_closed
from tunnel.admission import HandshakeGate
from tunnel.backoff import Backoff, BackoffPolicy
from tunnel.clock import SystemClock
from tunnel.connector import TunnelConnector
from tunnel.errors import ProtocolError, SessionClosedError
from tunnel.frames import RefusalReason
from tunnel.gateway_end import GatewaySession
from tunnel.tls_buffers import install as install_lean_tls
from tunnel.ws import MAX_MESSAGE, WebSocketTransport

__all__ = ["raise_nofile", "rss_kib"]


def raise_nofile(needed: int) -> int:
    """Raise the open-file limit to at least ``needed`` if allowed; the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, needed)
    if want > hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            want = hard
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


_STATUS: list[int] = []


def rss_kib() -> int:
    """Resident set size of this process in KiB.

    The status file stays open: during a storm every other descriptor may be taken.
    """
    if not _STATUS:
        _STATUS.append(os.open("/proc/self/status", os.O_RDONLY))
    text = os.pread(_STATUS[0], 65536, 0).decode()
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _top_allocations(limit: int = 30) -> list[str]:
    """Where the traced memory is (``BENCH_TRACEMALLOC=1``), biggest first."""
    if not tracemalloc.is_tracing():
        return []
    stats = tracemalloc.take_snapshot().statistics("lineno")
    return [str(stat) for stat in stats[:limit]]


async def gateway(certs: Path, port: int, hosts: list[str]) -> None:
    raise_nofile(40_000)
    install_lean_tls()
    accepts: list[float] = []
    live: dict[GatewaySession, float] = {}  # running sessions -> when they got WELCOME
    gate = HandshakeGate()

    async def tunnel_v1(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, compress=False)
        await ws.prepare(request)
        session = GatewaySession(WebSocketTransport(ws))
        ticket = gate.try_enter()
        if ticket is None:
            await session.refuse(RefusalReason.OVERLOADED, gate.retry_after(), "busy")
            return ws
        with ticket:
            try:
                await session.receive_hello()
                await session.accept(session_id=f"s{len(accepts)}", capabilities=("telemetry",))
            except (TimeoutError, ProtocolError, SessionClosedError):
                await ws.close()
                return ws
        accepts.append(time.monotonic())
        live[session] = accepts[-1]
        try:
            await session.run()
        finally:
            del live[session]
        return ws

    app = web.Application()
    app.router.add_get("/tunnel/v1", tunnel_v1)
    runner = web.AppRunner(app, shutdown_timeout=1.0, handle_signals=False)
    await runner.setup()
    context = gateway_context(certs)
    for host in hosts:
        await web.TCPSite(runner, host, port, ssl_context=context, backlog=4096).start()
    if os.environ.get("BENCH_TRACEMALLOC"):
        tracemalloc.start()
    gc.collect()
    emit(ready=True, rss_kib=rss_kib())
    while line := await asyncio.to_thread(sys.stdin.readline):
        command = json.loads(line)["cmd"]
        if command == "stats":
            gc.collect()
            emit(rss_kib=rss_kib(), sessions=len(live))
        elif command == "accepts":
            emit(accepts=accepts, live=sorted(live.values()), refused=gate.refused_total)
        elif command == "top":
            emit(top=_top_allocations())
    os._exit(0)  # closing 10,000 sessions one by one would only slow the benchmark down


async def devices(certs: Path, url: str, count: int, reconnect_window: float | None) -> None:
    raise_nofile(count * 2 + 256)
    context = device_context(certs)
    policy = (
        BackoffPolicy()
        if reconnect_window is None
        else BackoffPolicy(reconnect_window=reconnect_window)
    )
    connectors = [
        TunnelConnector(
            url=url,
            ssl_context=context,
            hello=HELLO,
            clock=SystemClock(),
            backoff=Backoff(policy),
            name=f"dev{i}",
        )
        for i in range(count)
    ]
    runners = []
    for i, connector in enumerate(connectors):
        runners.append(asyncio.create_task(connector.run(), name=f"connector {i}"))
        if i % 10 == 9:
            # Ramp up at 100 connects/s: the gateway completes ~100-200 TLS + WebSocket
            # handshakes a second here; faster, attempts time out and retry in a pile-up.
            await asyncio.sleep(0.1)
    emit(started=count)
    await stdin_closed()
    await asyncio.gather(*(c.stop() for c in connectors))
    await asyncio.gather(*runners, return_exceptions=True)


def main(argv: list[str]) -> None:
    # Thousands of disconnects and overload errors are the point here; the numbers tell.
    logging.basicConfig(level=logging.CRITICAL)
    role, *args = argv
    if role == "gateway":
        asyncio.run(gateway(Path(args[0]), int(args[1]), args[2].split(",")))
    elif role == "devices":
        window = float(args[3]) if len(args) > 3 else None
        asyncio.run(devices(Path(args[0]), args[1], int(args[2]), window))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
