"""``python -m bench tunnel-wan-gap``: where a one-stream download over the emulated link loses
time against the link's rate, per path (issue 19).

Runs the ``tunnel-wan`` download leg (one stream from the source target through the
emulated link, :mod:`bench._link`) with the link tracing when each chunk starts to cross
the line and its size (``BENCH_LINK_TRACE``). The client notes when it sent the request
and when each piece arrived, on the same clock (``time.monotonic``). A download's time
then splits exactly into:

* ``start_ms``: request sent until the first byte of the answer starts to cross the line
  (the request's way up, opening the stream at home, the source's first write);
* ``payload_ms``: the payload bytes at the line's rate (the floor for every path);
* ``framing_ms``: the bytes on the line beyond the payload (TLS records, WebSocket and
  tunnel headers; ssh's packets and MACs), at the line's rate;
* ``idle_ms``: the line idle while the download was running (the sender held back: the
  window, or the ends not keeping up), with ``idle_first_ms`` its part in the first
  ``RAMP`` round trips;
* ``tail_ms``: the last byte's one-way delay and the local hops to the client.

``BENCH_WAN_PROFILES`` (default ``dsl``), ``BENCH_WAN_PATHS`` (default
``direct,tunnel,ssh``), ``BENCH_GAP_MIB`` (default 64) and ``BENCH_GAP_ROUNDS`` (default 3)
choose what runs; each round runs every path once, alternating. The metrics are medians
``P_<part>_ms_<path>`` and ``P_wire_per_payload_<path>``; the ratios
``P_download_vs_direct`` and ``P_download_vs_ssh`` (their time over the tunnel's, > 1:
the tunnel is faster). The idle spells of each run (when, how long) go to stderr.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._certs import write_certs
from bench._client import bulk
from bench._link import LinkProfile
from bench._proc import node
from bench._ssh import SshUnavailableError, reverse_tunnel
from bench.tunnel_wan import MIB, PROFILES, _link, _one_hop, _tunnel

__all__ = ["RAMP", "gaps", "run", "split"]

RAMP = 4
"""Round trips counted as the download's start in ``idle_first_ms``."""


def gaps(
    begin: float, chunks: list[tuple[float, int]], *, rate: float, least: float = 0.001
) -> list[tuple[float, float]]:
    """(when after ``begin``, how long) of each idle spell of the line above ``least``."""
    found = []
    busy_until = chunks[0][0]
    for start, size in chunks:
        if start - busy_until > least:
            found.append((busy_until - begin, start - busy_until))
        busy_until = max(busy_until, start) + size / rate
    return found


def split(
    begin: float,
    end: float,
    payload: int,
    chunks: list[tuple[float, int]],
    *,
    rate: float,
    rtt: float,
) -> dict[str, float]:
    """A download's time in parts (seconds), from the link's down trace.

    ``chunks`` are (start, size) of every chunk that crossed the line downwards; those
    starting within [begin, end] belong to the download."""
    mine = [(start, size) for start, size in chunks if begin <= start <= end]
    if not mine:
        raise ValueError("no bytes crossed the link during the download")
    wire = sum(size for _, size in mine)
    first = mine[0][0]
    done = mine[-1][0] + mine[-1][1] / rate
    busy_until = first
    idle = idle_first = 0.0
    for start, size in mine:
        gap = max(0.0, start - busy_until)
        idle += gap
        if start <= first + RAMP * rtt:
            idle_first += gap
        busy_until = max(busy_until, start) + size / rate
    return {
        "total": end - begin,
        "start": first - begin,
        "payload": payload / rate,
        "framing": (wire - payload) / rate,
        "idle": idle,
        "idle_first": idle_first,
        "tail": end - done,
        "wire_per_payload": wire / payload,
    }


@contextlib.contextmanager
def _path(name: str, profile: LinkProfile, certs: Path, targets: dict[str, int]) -> Iterator[int]:
    """The source's port through path ``name``."""
    if name == "direct":
        with _link(profile, [str(targets["source"])]) as (port,):
            yield port
    elif name in {"tunnel", "tunnel_v1"}:
        with _tunnel(certs, {"source": targets["source"]}, profile, v1=name != "tunnel") as ports:
            yield ports["source"]
    elif name == "ssh":
        relay = functools.partial(_one_hop, profile)
        with reverse_tunnel([targets["source"]], relay=relay) as (port,):
            yield port
    else:
        raise ValueError(f"unknown path {name!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Setup:
    profile: LinkProfile
    certs: Path
    targets: dict[str, int]
    nbytes: int
    tmp: Path


def _once(name: str, setup: _Setup) -> dict[str, float]:
    trace = setup.tmp / f"trace-{name}.json"
    arrivals: list[tuple[float, int]] = []
    os.environ["BENCH_LINK_TRACE"] = str(trace)  # the link process reads it at start
    try:
        with _path(name, setup.profile, setup.certs, setup.targets) as port:
            bulk(port, setup.nbytes, arrivals=arrivals)
    finally:
        del os.environ["BENCH_LINK_TRACE"]
    down = [(float(t), int(n)) for t, n in json.loads(trace.read_text())["down"]]
    begin, end = arrivals[0][0], arrivals[-1][0]
    rate, rtt = setup.profile.down, setup.profile.rtt
    parts = split(begin, end, setup.nbytes, down, rate=rate, rtt=rtt)
    parts["first_byte"] = arrivals[1][0] - begin
    mine = [(start, size) for start, size in down if begin <= start <= end]
    spells = [(round(a * 1e3), round(b * 1e3, 1)) for a, b in gaps(begin, mine, rate=rate)]
    print(json.dumps({"path": name, "idle_spells_ms": spells[:12]}), file=sys.stderr)
    return parts


def run(*, smoke: bool) -> dict[str, Any]:
    """Every chosen profile and path, ``BENCH_GAP_ROUNDS`` times alternating; ``smoke``:
    fibre, 1 MiB, one round, direct and tunnel."""
    profiles = ["fibre"] if smoke else ["dsl"]
    paths = ["direct", "tunnel"] if smoke else ["direct", "tunnel", "ssh"]
    if os.environ.get("BENCH_WAN_PROFILES"):
        profiles = os.environ["BENCH_WAN_PROFILES"].split(",")
    if os.environ.get("BENCH_WAN_PATHS"):
        paths = os.environ["BENCH_WAN_PATHS"].split(",")
    nbytes = int(os.environ.get("BENCH_GAP_MIB", "1" if smoke else "64")) * MIB
    rounds = int(os.environ.get("BENCH_GAP_ROUNDS", "1" if smoke else "3"))
    metrics: dict[str, Any] = {}
    ratios: dict[str, float | None] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-gap-") as name,
        node("bench._nodes", "target") as target,
    ):
        tmp = Path(name)
        certs = write_certs(tmp)
        targets = {k: int(v) for k, v in target.event().items()}
        for profile_name in profiles:
            setup = _Setup(
                profile=PROFILES[profile_name], certs=certs, targets=targets, nbytes=nbytes, tmp=tmp
            )
            metrics[f"{profile_name}_loadavg_before"] = os.getloadavg()[0]
            runs: dict[str, list[dict[str, float]]] = {path: [] for path in paths}
            for _ in range(rounds):
                for path in paths:
                    with contextlib.suppress(SshUnavailableError):
                        runs[path].append(_once(path, setup))
            metrics[f"{profile_name}_loadavg_after"] = os.getloadavg()[0]
            for path, results in runs.items():
                for key in results[0] if results else ():
                    value = statistics.median(r[key] for r in results)
                    if key == "wire_per_payload":
                        metrics[f"{profile_name}_{key}_{path}"] = value
                    else:
                        metrics[f"{profile_name}_{key}_ms_{path}"] = value * 1e3
            tunnel = metrics.get(f"{profile_name}_total_ms_tunnel")
            for other in ("direct", "ssh"):
                theirs = metrics.get(f"{profile_name}_total_ms_{other}")
                ratios[f"{profile_name}_download_vs_{other}"] = (
                    theirs / tunnel if tunnel and theirs else None
                )
    return {"metrics": metrics, "ratios": ratios}
