"""One pooled read connection per web request, none held by a tunnel (ADR 0034); real
gateway over TLS on each backend, pool check-outs counted on its engine."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event

from cloud_gateway.store import Store
from tests.support.gateway import gateway_harness
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tunnel.clock import ManualClock


@contextmanager
def _counted(store: Store) -> Iterator[dict[str, Counter[asyncio.Task[Any] | None]]]:
    """Pool check-outs and SQL statements of the engine inside the block, per asyncio task
    (the gateway's background tasks read on their own time); statements also per task that
    read a portal session (a request with a session cookie)."""
    counted: dict[str, Counter[asyncio.Task[Any] | None]] = {
        "checkouts": Counter(),
        "statements": Counter(),
        "sessions": Counter(),
    }

    def checkout(*_args: Any) -> None:
        counted["checkouts"][asyncio.current_task()] += 1

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        counted["statements"][asyncio.current_task()] += 1
        if "FROM portal_sessions" in sql:
            counted["sessions"][asyncio.current_task()] += 1

    engine = store.engine.sync_engine
    event.listen(engine, "checkout", checkout)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield counted
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "before_cursor_execute", statement)


async def _pool_idle(store: Store, timeout: float = 10.0) -> None:
    """Wait (bounded) until no connection is checked out of the pool (background work, e.g.
    a tunnel's state hooks, returns its own on its own time)."""
    pool: Any = store.engine.sync_engine.pool
    idle = asyncio.Event()

    def checkin(*_args: Any) -> None:
        if pool.checkedout() <= 1:  # the event fires before the pool counts it back
            idle.set()

    event.listen(pool, "checkin", checkin)
    try:
        if pool.checkedout():
            async with asyncio.timeout(timeout):
                await idle.wait()
    finally:
        event.remove(pool, "checkin", checkin)
    assert pool.checkedout() == 0


async def test_a_pages_reads_share_one_pooled_connection(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        store = gw.gateway.store
        async with gw.client() as http:
            await gw.login(http, "anna")
            await _pool_idle(store)
            with _counted(store) as counted:
                async with http.get("/portal") as page:
                    assert page.status == 200
                    assert "anna" in await page.text()
    [request] = counted["sessions"]  # the page's handler (background tasks read on their own)
    # the session with its account and security state, the gate's terms, the page's own
    assert counted["statements"][request] >= 3
    assert counted["checkouts"][request] == 1


async def test_a_tunnel_handler_holds_no_pooled_connection(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    """The tunnel's WebSocket handler lives as long as the tunnel: its admission reads share
    the request's connection, which goes back to the pool when the WebSocket is prepared."""
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        await enrol_device(gw, device, "anna")
        with _counted(gw.gateway.store) as counted:
            client = await open_tunnel(gw.url, device.client_ssl())
            try:
                # admitted (certificate, device, entitlement windows read), hooks run: after
                # that nothing of the live tunnel keeps a connection checked out
                await _pool_idle(gw.gateway.store)
                assert not client.task.done()
                assert counted["checkouts"].total() >= 1
            finally:
                await client.stop()
