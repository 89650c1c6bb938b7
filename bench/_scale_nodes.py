"""The processes of ``tunnel-scale``: ``python -m bench._scale_nodes ROLE [args]``.

* ``gateway CERTS PORT HOST[,HOST...]``: the gateway end only (aiohttp TLS server,
  client certificate required, :class:`GatewaySession` with the product's defaults) on
  PORT of each loopback HOST. Reads commands on stdin, one JSON line each:
  ``{"cmd": "count"}`` -> ``{"sessions": ..., "cpu_s": ...}`` (CPU seconds this process
  used so far); ``{"cmd": "stats"}`` -> the same plus ``"rss_kib"``, after a full garbage
  collection (at 10,000 tunnels that takes the gateway a good part of a second: never
  poll it);
  ``{"cmd": "accepts"}`` -> ``{"accepts": [monotonic instants of every WELCOME],
  "live": [WELCOME instants of the sessions running now], "refused": n, "queued": n}``;
  ``{"cmd": "drop"}`` aborts every running session's connection (a network cut seen by the
  whole fleet at once) -> ``{"dropped": n}``; ``{"cmd": "health"}`` -> ``{"sessions": n,
  "accepted": n, "fds": n, "tasks": n, "tls_started": n, "tls_closed_at_once": n,
  "tls_gave_up": n, "tls_expired": n}`` (open file descriptors and asyncio tasks of the
  gateway process, for leak checks across reconnect storms; TLS handshakes begun,
  connections closed over the TLS budget before any TLS work, queued ones dropped because
  their peer had left, and because the queue wait ran out).
  It listens through the product's :class:`~cloud_gateway.tls_site.TlsSite` (the TLS
  handshake budget before TLS, ADR 0032; one source's share is the whole budget, as every
  device here comes from 127.0.0.1).
  Like the product's ``/tunnel/v1`` it admits 64 handshakes at a time and queues a few
  more (:class:`HandshakeGate`); its TLS context is the product's (no session tickets).
* ``devices CERTS URL COUNT [RECONNECT_WINDOW [HEALTHY_AFTER]]``: COUNT
  :class:`TunnelConnector` instances with the product's default backoff (the smoke run
  shortens its ``reconnect_window``, the storm cycles also its ``healthy_after``),
  all to URL; ends when stdin closes. ``{"cmd": "ended", "since": UNIX_TIME}`` ->
  ``{"ended": {reason: count}}``: why attempts and sessions ended since then (the
  connectors keep their last 50 each). Each does the full handshake (TLS with its client
  certificate, WebSocket upgrade, HELLO/WELCOME); the process runs at ``nice`` +5 so the
  gateway under test gets the CPU first.

Several loopback destination addresses (127.0.0.2, ...) give each device process its own
ephemeral port range. Both roles raise ``RLIMIT_NOFILE`` as far as they may. With
``BENCH_PROFILE=DIR`` every role runs under cProfile and writes ``DIR/ROLE-PID.prof``
when it ends (the gateway when its stdin closes). The gateway runs on asyncio's loop with
:mod:`tunnel.tls_buffers`, as shipped; ``BENCH_TUNNEL_LOOP=uvloop-gateway`` (or ``uvloop``)
runs it on uvloop (:mod:`bench._loop`).
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import dataclasses
import gc
import json
import logging
import os
import resource
import socket
import ssl
import sys
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from bench._certs import device_context, gateway_context
from bench._loop import run_end
from bench._nodes import HELLO, emit
from cloud_gateway.config import HttpConfig
from cloud_gateway.tls_budget import TlsBudget, TlsBudgetLimits
from cloud_gateway.tls_site import TlsSite
from tunnel.admission import HandshakeGate
from tunnel.backoff import Backoff, BackoffPolicy
from tunnel.cliutil import prepare_tunnel_end
from tunnel.clock import SystemClock
from tunnel.connector import TunnelConnector
from tunnel.errors import ProtocolError, SessionClosedError
from tunnel.frames import RefusalReason
from tunnel.gateway_end import GatewaySession
from tunnel.ws import AIOHTTP_MAX_MSG_SIZE, PushWebSocketTransport

__all__ = ["open_fds", "raise_nofile", "rss_kib"]


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
_SPARE: list[int] = []


def open_fds() -> int:
    """Open file descriptors of this process, also when every one of them is taken.

    Listing ``/proc/self/fd`` needs a descriptor itself: at the limit (a reconnect storm
    accepts faster than it hands back) it raised EMFILE and ended the node. A spare one,
    opened on the first call, is closed for the listing and taken again right after; the
    event loop runs nothing in between, so no accept can take it meanwhile.
    """
    if _SPARE:
        os.close(_SPARE.pop())
    try:
        return sum(1 for _ in Path("/proc/self/fd").iterdir()) - 1  # minus the listing's own
    finally:
        _SPARE.append(os.open(os.devnull, os.O_RDONLY))


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


async def gateway(certs: Path, port: int, hosts: list[str], profile: _Profile) -> None:
    raise_nofile(40_000)
    prepare_tunnel_end()
    accepts: list[float] = []
    live: dict[GatewaySession, float] = {}  # running sessions -> when they got WELCOME
    wires: dict[GatewaySession, asyncio.Transport] = {}  # their connections, for "drop"
    gate = HandshakeGate()

    async def tunnel_v1(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=AIOHTTP_MAX_MSG_SIZE, compress=False)
        await ws.prepare(request)
        session = GatewaySession(PushWebSocketTransport.for_request(ws, request))
        ticket = await gate.enter()
        if ticket is None:
            retry_after = gate.retry_after()
            with contextlib.suppress(TimeoutError, ProtocolError, SessionClosedError):
                await session.receive_hello()  # as /tunnel/v1: REFUSE answers the HELLO
            await session.refuse(RefusalReason.OVERLOADED, retry_after, "busy")
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
        if request.transport is not None:
            wires[session] = request.transport
        try:
            await session.run()
        finally:
            del live[session]
            wires.pop(session, None)
        return ws

    app = web.Application()
    app.router.add_get("/tunnel/v1", tunnel_v1)
    runner = web.AppRunner(app, shutdown_timeout=1.0, handle_signals=False)
    await runner.setup()
    budget = await _listen(runner, port, hosts, gateway_context(certs))
    if os.environ.get("BENCH_TRACEMALLOC"):
        tracemalloc.start()
    gc.collect()
    open_fds()  # takes the spare descriptor while there are plenty
    emit(ready=True, rss_kib=rss_kib())
    while line := await asyncio.to_thread(sys.stdin.readline):
        command = json.loads(line)["cmd"]
        if not _fleet_command(command, len(accepts), wires, budget):
            _answer(command, accepts, live, gate)
    profile.dump()
    os._exit(0)  # closing 10,000 sessions one by one would only slow the benchmark down


async def _listen(
    runner: web.AppRunner, port: int, hosts: list[str], context: ssl.SSLContext
) -> TlsBudget:
    """Listen on PORT of each host; the TLS handshake budget the listeners share."""
    # The product's listener: plain TCP, the node's TLS handshake budget, then TLS with the
    # product's bounds (ADR 0032). Every device here comes from 127.0.0.1, so one source's
    # share is the whole budget (a real fleet comes from many addresses).
    http = HttpConfig()
    limits = dataclasses.replace(
        TlsBudgetLimits.of(http), per_source=http.tls_handshakes_max + http.tls_handshake_queue
    )
    budget = TlsBudget(limits)
    for host in hosts:
        sock = socket.create_server((host, port), backlog=4096)
        site = TlsSite(
            runner,
            sock,
            ssl_context=context,
            tls_close_timeout_s=http.tls_close_timeout_s,
            tls_handshake_timeout_s=http.tls_handshake_timeout_s,
            budget=budget,
            backlog=4096,  # as the bench's aiohttp TCPSite had: 10,000 devices connect
        )
        await site.start()
    return budget


def _fleet_command(
    command: str,
    accepted: int,
    wires: dict[GatewaySession, asyncio.Transport],
    budget: TlsBudget,
) -> bool:
    """``drop`` and ``health`` (the reliability suite's storm cycles); False: not one of them."""
    if command == "drop":
        dropped = list(wires.values())
        for wire in dropped:
            wire.abort()
        emit(dropped=len(dropped))
    elif command == "health":
        emit(
            sessions=len(wires),
            accepted=accepted,
            fds=open_fds(),
            tasks=len(asyncio.all_tasks()),
            tls_started=budget.started_total,
            tls_closed_at_once=budget.refused_full + budget.refused_source,
            tls_gave_up=budget.gave_up,
            tls_expired=budget.expired,
        )
    else:
        return False
    return True


def _answer(
    command: str, accepts: list[float], live: dict[GatewaySession, float], gate: HandshakeGate
) -> None:
    """One command of the parent to the gateway node."""
    times = os.times()
    if command == "count":  # cheap enough to poll: no collection, no RSS
        emit(sessions=len(live), cpu_s=times.user + times.system)
    elif command == "stats":
        gc.collect()
        emit(rss_kib=rss_kib(), sessions=len(live), cpu_s=times.user + times.system)
    elif command == "accepts":
        emit(
            accepts=accepts,
            live=sorted(live.values()),
            refused=gate.refused_total,
            queued=gate.queued_total,
        )
    elif command == "top":
        emit(top=_top_allocations())


DEVICE_NICE = 5
"""The device processes yield the CPU to the gateway under test (and to everyone else)."""


async def devices(
    certs: Path,
    url: str,
    count: int,
    reconnect_window: float | None,
    healthy_after: float | None = None,
) -> None:
    raise_nofile(count * 2 + 256)
    # The simulated fleet shares two cores with the gateway it measures: real devices
    # bring their own CPUs. Lower priority, and no 256 KiB TLS read buffer per connection
    # (each one zero-filled, 2.5 GiB for 10,000 devices); the handshakes stay complete.
    os.nice(DEVICE_NICE)
    prepare_tunnel_end()
    context = device_context(certs)
    shortened: dict[str, float] = {}
    if reconnect_window is not None:
        shortened["reconnect_window"] = reconnect_window
    if healthy_after is not None:
        shortened["healthy_after"] = healthy_after
    policy = BackoffPolicy(**shortened)
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
    while line := await asyncio.to_thread(sys.stdin.readline):
        if json.loads(line)["cmd"] == "ended":
            since = datetime.fromtimestamp(json.loads(line)["since"], UTC)
            ended = Counter(
                str(record.reason)
                for connector in connectors
                for record in connector.disconnects
                if record.at >= since
            )
            emit(ended=dict(ended))
    await asyncio.gather(*(c.stop() for c in connectors))
    await asyncio.gather(*runners, return_exceptions=True)


class _Profile:
    """cProfile of this node with ``BENCH_PROFILE=DIR``: ``DIR/ROLE-PID.prof`` at the end."""

    def __init__(self, role: str) -> None:
        folder = os.environ.get("BENCH_PROFILE")
        self.path = None if not folder else Path(folder) / f"{role}-{os.getpid()}.prof"
        self.profiler = cProfile.Profile() if self.path else None
        if self.profiler is not None:
            self.profiler.enable()

    def dump(self) -> None:
        if self.profiler is not None and self.path is not None:
            self.profiler.disable()
            self.profiler.dump_stats(str(self.path))


def main(argv: list[str]) -> None:
    # Thousands of disconnects and overload errors are the point here; the numbers tell.
    logging.basicConfig(level=logging.CRITICAL)
    role, *args = argv
    profile = _Profile(role)
    if role == "gateway":
        run_end(gateway(Path(args[0]), int(args[1]), args[2].split(","), profile), role)
    elif role == "devices":
        window = float(args[3]) if len(args) > 3 else None
        healthy = float(args[4]) if len(args) > 4 else None
        asyncio.run(devices(Path(args[0]), args[1], int(args[2]), window, healthy))
        profile.dump()
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
