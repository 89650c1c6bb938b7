"""``python -m bench handshake``: what one tunnel handshake costs one gateway node (issue 18).

One real ``cloud-gateway serve`` node of a fleet (``[cluster] enabled``, PostgreSQL, its tunnel
directory) and ``devices`` enrolled devices in one device process (:mod:`bench._cluster_devices`,
``nice`` +5) connecting to it directly, ramped at ``_RAMP_PER_S`` connects a second: faster than
the node completes them, so its admission control (ADR 0007) queues and refuses as in a
reconnect storm. Timed until every device is in the directory.

* ``handshakes_per_s``: devices / seconds from the first connect until the last is held.
* ``gateway_cpu_ms_per_handshake``: the node's CPU time (user + system, ``/proc``) over that
  span divided by the handshakes it completed (WELCOME); refused attempts (REFUSE(overloaded),
  their TLS paid) are in the numerator, and counted in ``refused_overloaded``.
* ``retry_after_max_s``: the longest return slot a refused device was given.

``BENCH_PROFILE=DIR``: the node runs under cProfile and writes ``DIR/node-a.prof`` when it stops.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._proc import node
from bench._procfs import cpu_seconds
from bench.cluster import held_devices, setup_devices, tunnel_url, wait_for
from bench.ingest import empty_database
from cloud_gateway.store import Store
from simulator.cluster import loopback_cluster, prepare_state

__all__ = ["run"]

_RAMP_PER_S = 100.0
"""Connects a second: above what one node completes on this machine."""
_RETRY = re.compile(r"refusing: overloaded \(retry after ([0-9.e+]+) s\)")


async def _run(*, smoke: bool, profile_dir: Path | None) -> dict[str, Any]:
    count = 30 if smoke else 300
    async with empty_database("postgresql") as url:
        with tempfile.TemporaryDirectory(prefix="bench-handshake-") as tmp:
            state = Path(tmp) / "state"
            await asyncio.to_thread(prepare_state, state)
            store = await Store.open(url)
            try:
                devices, folder = await setup_devices(store, state, count)
                async with loopback_cluster(
                    state, url, 1, reconnect_window_s=20.0, profile_dir=profile_dir
                ) as cluster:
                    gateway = cluster.nodes["a"]
                    if gateway.process is None:
                        raise RuntimeError("node a did not start")
                    pid = gateway.process.pid
                    cpu_before = cpu_seconds(pid)
                    start = time.monotonic()
                    with node(
                        "bench._cluster_devices",
                        str(folder),
                        str(cluster.ca_file),
                        tunnel_url(gateway.port),
                        "1",  # no web page: the handshakes alone
                        str(_RAMP_PER_S),
                        *(slug for _id, slug in devices),
                    ) as fleet:
                        await asyncio.to_thread(fleet.event)  # started

                        async def all_held() -> bool:
                            return len(await held_devices(store)) == count

                        await wait_for(all_held, 600)
                        elapsed = time.monotonic() - start
                        cpu = cpu_seconds(pid) - cpu_before
                log = (state / "node-a.log").read_text(errors="replace")
            finally:
                await store.close()
    retries = [float(m) for m in _RETRY.findall(log)]
    return {
        "metrics": {
            "devices": count,
            "connect_all_s": round(elapsed, 2),
            "handshakes_per_s": round(count / elapsed, 1),
            "gateway_cpu_ms_per_handshake": round(cpu / count * 1000, 2),
            "refused_overloaded": len(retries),
            "retry_after_max_s": round(max(retries, default=0.0), 1),
            "load_average": os.getloadavg()[0],
        },
        "ratios": {},
    }


def run(*, smoke: bool) -> dict[str, Any]:
    """Run the handshake benchmark (smoke: 30 devices)."""
    folder = os.environ.get("BENCH_PROFILE")
    profile_dir = Path(folder).resolve() if folder else None
    return asyncio.run(_run(smoke=smoke, profile_dir=profile_dir))
