"""A node's heartbeat does not depend on its event loop (issue 18, ADR 0020).

The node under test is a process of its own (:mod:`tests.e2e.fleet_node_process`: the real
``FleetNode`` on PostgreSQL) whose event loop the test blocks with a synchronous sleep; the
other node is a ``FleetNode`` in this process, whose reaper judges it. A loop blocked for
several times ``dead_after_s`` keeps the node (its heartbeat thread goes on writing); a
SIGKILL ends the thread with the process and the node is reaped within the bound; a loop
blocked past ``loop_grace_s`` is reaped and joins again once it answers.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from cloud_gateway.config import ClusterConfig
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.api import OperatorFlagPolicy
from cloud_gateway.fleet.liveness import Liveness
from cloud_gateway.fleet.node import FleetNode
from cloud_gateway.fleet.repository import FleetRepository
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import TunnelRegistry
from tests.support.databases import fresh_database_url
from tunnel.clock import SystemClock

pytestmark = [pytest.mark.postgresql, pytest.mark.slow, pytest.mark.timeout(150)]

HEARTBEAT_S = 0.5
DEAD_AFTER_S = 2.0
SLACK_S = 10.0
"""Allowance for a loaded test machine on top of a bound (scheduling, process start)."""
_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class _Child:
    """The node process and its stdout lines."""

    proc: asyncio.subprocess.Process

    async def expect(self, line: str, timeout: float = 30.0) -> None:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                got = await self.proc.stdout.readline()
                if not got:
                    raise AssertionError(f"the node process ended before printing {line!r}")
                if got.decode().strip() == line:
                    return


@asynccontextmanager
async def _node_process(
    url: str, node_id: str, *, loop_grace_s: float, block_s: float, log: Path
) -> AsyncIterator[_Child]:
    args = [url, node_id, HEARTBEAT_S, DEAD_AFTER_S, loop_grace_s, block_s]
    with log.open("ab") as sink:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.e2e.fleet_node_process",
            *(str(a) for a in args),
            cwd=_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=sink,
        )
    try:
        yield _Child(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


@asynccontextmanager
async def _fleet(tmp_path: Path) -> AsyncIterator[tuple[str, Store, int]]:
    """A fresh database, the observing node running in this process, one device."""
    async with fresh_database_url("postgresql", tmp_path) as url:
        store = await Store.open(url)
        clock = SystemClock()
        observer = FleetNode(
            store,
            clock,
            TunnelRegistry(store, clock, OperatorFlagPolicy()),
            ClusterConfig(
                enabled=True,
                node_id="observer",
                heartbeat_s=HEARTBEAT_S,
                dead_after_s=DEAD_AFTER_S,
                lease_poll_s=HEARTBEAT_S,
            ),
        )
        running = asyncio.create_task(observer.run())
        try:
            await asyncio.wait_for(observer.joined.wait(), 10)
            device = await store.repo(DeviceRepository).create(
                slug="hub-1", kind=DeviceKind.CCU, name="hub-1", created_at=clock.now()
            )
            yield url, store, device.id
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await store.close()


async def _until(what: str, check: Callable[[], Awaitable[bool]], timeout: float) -> float:
    start = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            while not await check():  # noqa: ASYNC110 - rows written by other processes
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None
    return time.monotonic() - start


async def test_a_blocked_loop_keeps_the_node_and_a_sigkill_removes_it(tmp_path: Path) -> None:
    block_s = 4 * DEAD_AFTER_S
    async with (
        _fleet(tmp_path) as (url, store, device_id),
        _node_process(
            url, "busy", loop_grace_s=60.0, block_s=block_s, log=tmp_path / "busy.log"
        ) as busy,
    ):
        repo = store.repo(FleetRepository)
        await busy.expect("joined")
        await repo.claim(device_id, "busy", "s1", SystemClock().now())
        busy.proc.send_signal(signal.SIGUSR1)
        await busy.expect("blocking")
        blocked_at = time.monotonic()
        unblocked = asyncio.create_task(busy.expect("unblocked", block_s + SLACK_S))
        beats: set[datetime] = set()
        while not unblocked.done():  # the observer's reaper runs all along
            rows = {n.node_id: n for n in await repo.nodes()}
            assert "busy" in rows, f"reaped {time.monotonic() - blocked_at:.1f} s into the block"
            beats.add(rows["busy"].heartbeat_at)
            entry = await repo.locate(device_id)
            assert entry is not None
            assert entry.node_id == "busy"
            await asyncio.wait({unblocked}, timeout=0.2)
        await unblocked
        blocked_s = time.monotonic() - blocked_at
        assert blocked_s > 3 * DEAD_AFTER_S
        assert len(beats) >= 4, beats  # the heartbeat thread wrote while the loop slept

        # SIGKILL: the thread ends with the process, the observer reaps the node and its rows
        busy.proc.kill()
        killed_at = time.monotonic()

        async def gone() -> bool:
            nodes = {n.node_id for n in await repo.nodes()}
            return "busy" not in nodes and await repo.locate(device_id) is None

        bound = Liveness.of(ClusterConfig(heartbeat_s=HEARTBEAT_S, dead_after_s=DEAD_AFTER_S))
        await _until("the killed node reaped", gone, bound.reaped_after_kill_s + SLACK_S)
        assert time.monotonic() - killed_at > DEAD_AFTER_S - HEARTBEAT_S


async def test_a_loop_stuck_past_the_grace_is_reaped_and_joins_again(tmp_path: Path) -> None:
    grace_s = 2 * DEAD_AFTER_S
    bound = Liveness(heartbeat_s=HEARTBEAT_S, dead_after_s=DEAD_AFTER_S, loop_grace_s=grace_s)
    block_s = bound.reaped_after_stall_s + 4.0
    async with (
        _fleet(tmp_path) as (url, store, _device_id),
        _node_process(
            url, "stuck", loop_grace_s=grace_s, block_s=block_s, log=tmp_path / "stuck.log"
        ) as stuck,
    ):
        repo = store.repo(FleetRepository)
        await stuck.expect("joined")
        stuck.proc.send_signal(signal.SIGUSR1)
        await stuck.expect("blocking")

        async def reaped() -> bool:
            return "stuck" not in {n.node_id for n in await repo.nodes()}

        taken = await _until("the stuck node reaped", reaped, block_s)
        assert taken > grace_s  # not before the grace ran out
        await stuck.expect("unblocked", block_s + SLACK_S)
        await stuck.expect("rejoined", SLACK_S)
        assert "stuck" in {n.node_id for n in await repo.nodes()}
