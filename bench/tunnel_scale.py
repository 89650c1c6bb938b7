"""Tunnel scale: gateway memory per idle tunnel, and the reconnect storm after a restart.

One gateway process (aiohttp + TLS with client certificates + :class:`GatewaySession`,
product defaults) holds the tunnels; the devices (:class:`TunnelConnector`, product
defaults, full-jitter backoff) run in separate processes, so their memory does not count.
Each device process dials its own loopback address (127.0.0.1, 127.0.0.2, ...) for its own
ephemeral port range.

* ``rss_per_tunnel_kib``: (gateway RSS with N idle tunnels - RSS before the first) / N, at
  the largest N (10,000); ``rss_per_tunnel_kib_small`` at the first step (1,000).
* Reconnect storm: the gateway process is killed and a new one started on the same port;
  ``storm_all_back_s`` is the time from the kill until every device has its WELCOME again
  (counting only sessions still up ``storm_hold_s`` later), ``storm_max_second_share`` the
  largest share of those in any one second; ``storm_refused_overloaded`` the REFUSEs of
  the gateway's admission control, ``storm_queued`` the handshakes that waited in its
  queue, ``storm_gateway_cpu_s`` the new gateway's CPU time until the end,
  ``storm_back_by_s`` how many of the lasting sessions were back 60, 120 and 180 s after
  the kill, ``storm_device_ends`` why the devices' attempts and sessions ended since the
  kill (``network`` includes the kill itself, once per device).
* ``connect_gateway_cpu_ms``: the gateway's CPU time per tunnel during the ramp (TLS,
  WebSocket upgrade, HELLO/WELCOME, and the idle sessions' heartbeats meanwhile).
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._certs import GATEWAY_HOSTS, write_certs
from bench._proc import Node, node
from bench._scale_nodes import raise_nofile

__all__ = ["Steps", "run"]

MODULE = "bench._scale_nodes"


@dataclass(frozen=True, slots=True, kw_only=True)
class Steps:
    """Tunnel counts: memory is measured after each step; the storm runs with the last."""

    counts: tuple[int, ...]
    """Cumulative tunnels per step, e.g. (1000, 10000)."""
    per_process: int
    """Most devices one device process runs."""
    storm_limit_s: float
    """Give up waiting for the storm to settle after this many seconds."""
    storm_hold_s: float
    """Sessions must still be up this long after the last came back to count."""
    reconnect_window: float | None
    """Devices' ``BackoffPolicy.reconnect_window``; None for the product default."""


FULL = Steps(
    counts=(1000, 10_000),
    per_process=2500,
    storm_limit_s=200.0,
    storm_hold_s=10.0,
    reconnect_window=None,
)
SMOKE = Steps(
    counts=(10, 20), per_process=20, storm_limit_s=15.0, storm_hold_s=1.0, reconnect_window=2.0
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_sessions(gateway: Node, count: int, limit: float) -> dict[str, Any]:
    """Poll the session count (cheaply: a full collection each time would slow the gateway)."""
    deadline = time.monotonic() + limit
    while True:
        gateway.send({"cmd": "count"})
        counted = gateway.event()
        if counted["sessions"] >= count or time.monotonic() > deadline:
            return counted
        time.sleep(0.25)


def _stats(gateway: Node) -> dict[str, Any]:
    """Sessions, CPU time and RSS after a full garbage collection."""
    gateway.send({"cmd": "stats"})
    return gateway.event()


def _chunks(total: int, size: int) -> list[int]:
    return [min(size, total - start) for start in range(0, total, size)]


@contextlib.contextmanager
def _gateway(certs: Path, port: int) -> Iterator[Node]:
    with node(MODULE, "gateway", str(certs), str(port), ",".join(GATEWAY_HOSTS)) as gateway:
        gateway.event()  # ready
        yield gateway


def run(*, smoke: bool) -> dict[str, Any]:
    """Memory at each step, then the storm; ``smoke`` uses a few tunnels."""
    steps = SMOKE if smoke else FULL
    raise_nofile(1024)
    port = _free_port()
    metrics: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        certs = write_certs(Path(stack.enter_context(tempfile.TemporaryDirectory())))
        gateway = stack.enter_context(
            node(MODULE, "gateway", str(certs), str(port), ",".join(GATEWAY_HOSTS))
        )
        baseline = gateway.event()["rss_kib"]
        gateway.send({"cmd": "count"})
        cpu_before = gateway.event()["cpu_s"]
        have, processes = 0, 0
        fleet: list[Node] = []
        ramp_started = time.monotonic()
        for step, total in enumerate(steps.counts):
            for count in _chunks(total - have, steps.per_process):
                host = GATEWAY_HOSTS[processes % len(GATEWAY_HOSTS)]
                url = f"wss://{host}:{port}/tunnel/v1"
                args = [str(certs), url, str(count)]
                if steps.reconnect_window is not None:
                    args.append(str(steps.reconnect_window))
                devices = stack.enter_context(node(MODULE, "devices", *args))
                devices.event()
                fleet.append(devices)
                processes += 1
            have = total
            counted = _wait_sessions(gateway, total, limit=max(60.0, total / 20))
            stats = _stats(gateway)
            per_tunnel = (stats["rss_kib"] - baseline) / max(stats["sessions"], 1)
            suffix = "" if step == len(steps.counts) - 1 else "_small"
            metrics[f"tunnels{suffix}"] = stats["sessions"]
            metrics[f"rss_per_tunnel_kib{suffix}"] = per_tunnel
        metrics["connect_ramp_s"] = time.monotonic() - ramp_started
        metrics["connect_gateway_cpu_ms"] = (
            (counted["cpu_s"] - cpu_before) * 1000 / max(counted["sessions"], 1)
        )
        metrics["gateway_rss_mib"] = stats["rss_kib"] / 1024
        metrics.update(_storm(gateway, fleet, certs, port, tunnels=have, steps=steps))
    return {"metrics": metrics, "ratios": {}}


def _storm(
    gateway: Node, fleet: list[Node], certs: Path, port: int, *, tunnels: int, steps: Steps
) -> dict[str, Any]:
    """Kill the gateway, start a new one on the same port, watch everyone come back.

    A device counts as back when its session (WELCOME sent) is still running ``hold``
    seconds after the last one came back; reconnects that did not last do not count.
    """
    limit = steps.storm_limit_s
    killed, killed_at = time.monotonic(), time.time()
    gateway.proc.kill()
    gateway.proc.wait()
    with _gateway(certs, port) as fresh:
        stats = _wait_sessions(fresh, tunnels, limit)
        time.sleep(steps.storm_hold_s)
        fresh.send({"cmd": "accepts"})
        report = fresh.event()
        fresh.send({"cmd": "count"})
        cpu = fresh.event()["cpu_s"]
    ended: Counter[str] = Counter()
    for devices in fleet:
        devices.send({"cmd": "ended", "since": killed_at})
        ended.update(devices.event()["ended"])
    back = sorted(t - killed for t in report["live"])
    per_second = Counter(int(t) for t in back)
    all_back = len(back) >= tunnels and stats["sessions"] >= tunnels
    return {
        "storm_tunnels_back": len(back),
        "storm_all_back_s": back[-1] if all_back and back[-1] <= limit else None,
        "storm_max_second_share": max(per_second.values()) / tunnels if per_second else None,
        "storm_reconnects": len(report["accepts"]),
        "storm_refused_overloaded": report["refused"],
        "storm_queued": report["queued"],
        "storm_back_by_s": {str(at): sum(t <= at for t in back) for at in (60, 120, 180)},
        "storm_device_ends": dict(ended),
        "storm_gateway_cpu_s": cpu,
    }
