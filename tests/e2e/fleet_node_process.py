"""A fleet node in a process of its own whose event loop can be blocked (heartbeat tests).

``python -m tests.e2e.fleet_node_process URL NODE_ID HEARTBEAT_S DEAD_AFTER_S LOOP_GRACE_S
BLOCK_S``: the real :class:`~cloud_gateway.fleet.node.FleetNode` (link, heartbeat thread,
reaper) on the system clock, without a gateway around it. It prints ``joined`` once its row is
written; on SIGUSR1 it blocks its event loop for ``BLOCK_S`` seconds with a synchronous sleep
(what a loop saturated by TLS handshakes looks like to the rest of the fleet) and prints
``blocking`` and ``unblocked``; it prints ``rejoined`` whenever it joined again.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time

from cloud_gateway.config import ClusterConfig
from cloud_gateway.entitlements.api import OperatorFlagPolicy
from cloud_gateway.fleet.node import FleetNode
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import TunnelRegistry
from tunnel.clock import SystemClock


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _main(argv: list[str]) -> None:
    url, node_id = argv[0], argv[1]
    heartbeat_s, dead_after_s, loop_grace_s, block_s = (float(a) for a in argv[2:6])
    store = await Store.open(url, run_migrations=False)
    clock = SystemClock()
    config = ClusterConfig(
        enabled=True,
        node_id=node_id,
        heartbeat_s=heartbeat_s,
        dead_after_s=dead_after_s,
        loop_grace_s=loop_grace_s,
        lease_poll_s=heartbeat_s,
    )
    node = FleetNode(store, clock, TunnelRegistry(store, clock, OperatorFlagPolicy()), config)
    running = asyncio.create_task(node.run(), name="fleet node")
    await node.joined.wait()

    def block() -> None:
        _say("blocking")
        time.sleep(block_s)  # the point: a loop that does not answer
        _say("unblocked")

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, block)
    _say("joined")
    rejoins = 0
    while not running.done():
        await asyncio.sleep(0.1)
        if node.rejoins != rejoins:
            rejoins = node.rejoins
            _say("rejoined")
    await running


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    asyncio.run(_main(sys.argv[1:]))
