"""Tunnel benchmark: our tunnel against plain TCP and ``ssh -R``, side by side on loopback.

Paths (the client code is the same for each; only the TCP port differs):

* ``direct``: client -> target.
* ``tunnel``: client -> gateway process (TCP listener, each connection opens a stream on
  the one device session) -> TLS + client certificate WebSocket ``/tunnel/v1``
  (:class:`GatewaySession` on aiohttp) -> device process (:class:`TunnelConnector`,
  ``on_open`` splices the stream) -> target.
* ``floor`` (echo only): the least two Python processes in the gateway's and the device's
  places cost: the same loops, TLS stacks and certificates relaying one connection with
  no protocol at all (:mod:`bench._floor`).
* ``ssh``: client -> private sshd's ``-R`` port -> one ``ssh -N -R`` connection -> target.
* ``snitun``: NabuCasa's snitun (:mod:`bench._snitun`): client -> TLS originator -> snitun
  server -> its multiplexer -> snitun client -> TLS terminator -> target (snitun routes by
  SNI, so this path alone carries TLS from end to end).

Target, gateway, device, sshd, ssh and the snitun nodes each run in their own process; the
client is this one.

Measured: bulk throughput of one stream (the target sends, the client receives), 64-byte
echo round trips (p50/p99), echo p99 while a bulk transfer shares the same tunnel, and
HTTP through the gateway's remote-access proxy (:mod:`bench._remote_http`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import _remote_http
from bench._certs import write_certs
from bench._client import Echoer, bulk, echo_rtts, percentile
from bench._floor import floor_path
from bench._loop import tunnel_loops
from bench._proc import node
from bench._procfs import cpu_seconds_fine
from bench._snitun import snitun_path
from bench._ssh import SshUnavailableError, reverse_tunnel

__all__ = ["Sizes", "run"]

MIB = 1024 * 1024
_WARMUP = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Sizes:
    """How much each leg moves."""

    bulk: int
    """Bytes of the throughput transfer."""
    echoes: int
    """Sequential 64-byte round trips."""
    shared_bulk: int
    """Bytes of the transfer that shares the tunnel with the interactive echoes."""
    http_requests: int
    """Sequential HTTP requests of the remote-access leg."""


FULL = Sizes(bulk=256 * MIB, echoes=2000, shared_bulk=1024 * MIB, http_requests=500)
SMOKE = Sizes(bulk=1 * MIB, echoes=50, shared_bulk=4 * MIB, http_requests=20)
QUICK = Sizes(bulk=64 * MIB, echoes=2000, shared_bulk=128 * MIB, http_requests=50)
"""``BENCH_TUNNEL_QUICK=1``: the full echo count with shorter transfers, for iterating."""


def _interactive(ports: dict[str, int], nbytes: int) -> list[float]:
    """Echo round trips, one every millisecond, while ``nbytes`` flow on another stream."""
    started = threading.Event()
    done = threading.Event()
    errors: list[BaseException] = []

    def transfer() -> None:
        try:
            bulk(ports["source"], nbytes, started)
        except OSError as exc:  # re-raised below, in the caller's thread
            errors.append(exc)
        finally:
            started.set()
            done.set()

    echoer = Echoer(ports["echo"])
    samples: list[float] = []
    thread = threading.Thread(target=transfer, name="bulk", daemon=True)
    try:
        thread.start()
        started.wait()
        while not done.is_set():
            samples.append(echoer.once())
            done.wait(0.001)
    finally:
        thread.join()
        echoer.close()
    if errors:
        raise errors[0]
    # A tiny smoke transfer may end before the first echo: then time one on its own.
    return samples or echo_rtts(ports["echo"], 1, warmup=0)


def _with_descendants(pids: Sequence[int]) -> list[int]:
    """``pids`` and every process below them (sshd forks one per connection)."""
    found: list[int] = []
    todo = list(pids)
    while todo:
        pid = todo.pop()
        found.append(pid)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return found


def _cpu(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in _with_descendants(pids):
        with contextlib.suppress(OSError, ValueError):
            total += cpu_seconds_fine(pid)
    return total


def _echoes(port: int, sizes: Sizes, pids: Sequence[int]) -> dict[str, float]:
    """The 64-byte echo: p50 and p99, and with ``pids`` the CPU per echo they spent.

    CPU the path's own processes spent per echo is steadier than wall time on a shared
    machine; it is read from the scheduler to the nanosecond, so a smoke run's 50 echoes
    (a few milliseconds, less than one 10 ms clock tick) measure too.
    """
    cpu_before = _cpu(pids)
    rtts = echo_rtts(port, sizes.echoes, warmup=_WARMUP)
    echo_cpu = _cpu(pids) - cpu_before
    result = {"rtt_p50_us": percentile(rtts, 50) * 1e6, "rtt_p99_us": percentile(rtts, 99) * 1e6}
    if pids:
        result["echo_cpu_us"] = echo_cpu / (len(rtts) + _WARMUP) * 1e6
    return result


def _measure(ports: dict[str, int], sizes: Sizes, pids: Sequence[int] = ()) -> dict[str, float]:
    bulk(ports["source"], min(sizes.bulk, 16 * MIB))  # warm-up: connections, credit, caches
    seconds = bulk(ports["source"], sizes.bulk)
    echoes = _echoes(ports["echo"], sizes, pids)
    shared = _interactive(ports, sizes.shared_bulk)
    return {
        "throughput_mib_s": sizes.bulk / MIB / seconds,
        **echoes,
        "interactive_p99_ms": percentile(shared, 99) * 1e3,
        "interactive_samples": float(len(shared)),
    }


@contextlib.contextmanager
def _tunnel_path(
    certs: Path, targets: dict[str, int]
) -> Iterator[tuple[dict[str, int], list[int]]]:
    """The gateway's forward ports, and the pids of gateway and device."""
    forwards = [f"{name}=tcp://127.0.0.1:{port}" for name, port in targets.items()]
    with node("bench._nodes", "gateway", str(certs), *forwards) as gateway:
        ready = gateway.event()
        with node("bench._nodes", "device", str(certs), ready["url"]) as device:
            device.event()
            gateway.event()
            yield dict(ready["forwards"]), [gateway.pid, device.pid]


def _ratio(numerator: Any, denominator: Any) -> float | None:
    if isinstance(numerator, float) and isinstance(denominator, float) and denominator:
        return numerator / denominator
    return None


def run(*, smoke: bool) -> dict[str, Any]:
    """Every leg; ``smoke`` uses tiny sizes (and skips the ssh leg if sshd is missing)."""
    sizes = SMOKE if smoke else QUICK if os.environ.get("BENCH_TUNNEL_QUICK") else FULL
    legs: dict[str, dict[str, float]] = {}
    metrics: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-tunnel-") as tmp,
        node("bench._nodes", "target") as target,
    ):
        certs = write_certs(Path(tmp))
        targets = {k: int(v) for k, v in target.event().items()}
        legs["direct"] = _measure(targets, sizes)
        with _tunnel_path(certs, targets) as (ports, pids):
            legs["tunnel"] = _measure(ports, sizes, pids)
        with floor_path(certs, targets["echo"]) as (floor_port, floor_pids):
            legs["floor"] = _echoes(floor_port, sizes, floor_pids)
        try:
            ssh_pids: list[int] = []
            with reverse_tunnel([targets["echo"], targets["source"]], ssh_pids) as (echo, source):
                legs["ssh"] = _measure({"echo": echo, "source": source}, sizes, ssh_pids)
        except SshUnavailableError as exc:
            metrics["ssh"] = f"skipped: {exc}"
        plain = {name: targets[name] for name in ("echo", "source")}
        with snitun_path(Path(tmp), plain) as (snitun_ports, snitun_pids):
            legs["snitun"] = _measure(snitun_ports, sizes, snitun_pids)
        http = _remote_http.measure(sizes.http_requests, Path(tmp))
    for leg, values in legs.items():
        for key, value in values.items():
            metrics[f"{key}_{leg}"] = value
    metrics["interactive_p99_ms"] = legs["tunnel"]["interactive_p99_ms"]
    metrics["tunnel_loop"] = tunnel_loops()
    metrics.update(http.metrics)
    ssh, snitun = legs.get("ssh", {}), legs["snitun"]
    tunnel, direct = legs["tunnel"], legs["direct"]
    ratios = {
        "throughput_vs_ssh": _ratio(tunnel["throughput_mib_s"], ssh.get("throughput_mib_s")),
        "rtt_p50_vs_ssh": _ratio(tunnel["rtt_p50_us"], ssh.get("rtt_p50_us")),
        "rtt_p50_floor_vs_ssh": _ratio(legs["floor"]["rtt_p50_us"], ssh.get("rtt_p50_us")),
        "rtt_p50_vs_floor": _ratio(tunnel["rtt_p50_us"], legs["floor"]["rtt_p50_us"]),
        "echo_cpu_vs_ssh": _ratio(tunnel.get("echo_cpu_us"), ssh.get("echo_cpu_us")),
        "throughput_vs_direct": _ratio(tunnel["throughput_mib_s"], direct["throughput_mib_s"]),
        "rtt_p50_vs_direct": _ratio(tunnel["rtt_p50_us"], direct["rtt_p50_us"]),
        "http_rtt_p50_vs_direct": http.ratio,
        "throughput_vs_snitun": _ratio(tunnel["throughput_mib_s"], snitun["throughput_mib_s"]),
        "rtt_p50_vs_snitun": _ratio(tunnel["rtt_p50_us"], snitun["rtt_p50_us"]),
        "echo_cpu_vs_snitun": _ratio(tunnel.get("echo_cpu_us"), snitun.get("echo_cpu_us")),
    }
    return {"metrics": metrics, "ratios": ratios}
