"""The node's heartbeat, written by a thread of its own on a PostgreSQL connection of its own.

The event loop of a node taking a reconnect storm is busy with TLS handshakes for seconds at a
time; a heartbeat written by that loop came late and the other nodes reaped a live node
(docs/benchmarks.md, ``cluster``). :class:`Pulse` runs beside the loop: a daemon thread with a
small event loop of its own and one asyncpg connection (reopened after a failure) updates the
node's row every ``heartbeat_s``. A thread needs only the CPU and the GIL, which a busy loop
gives up every few milliseconds; OpenSSL releases the GIL during handshakes anyway.

The thread does not vouch for a loop stuck for good: every beat it asks the loop to note the
time (``call_soon_threadsafe``) and beats only while the loop answered within ``loop_grace_s``
(:class:`~cloud_gateway.fleet.liveness.Liveness`). It only ever updates the row: a row found
gone (the others took the node for dead) is reported to the loop (``on_gone``), which joins
again and claims its tunnels in one transaction (:meth:`FleetNode._rejoin`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import asyncpg

from cloud_gateway.fleet.liveness import Liveness
from cloud_gateway.fleet.schema import fleet_nodes
from tunnel.clock import Clock

__all__ = ["Pulse"]

_LOGGER = logging.getLogger(__name__)
_UPDATE = (
    f"UPDATE {fleet_nodes.name} SET heartbeat_at = $1, draining = $2 "  # noqa: S608 - a table name
    "WHERE node_id = $3"
)


class Pulse:
    """The heartbeat thread of one node; see the module docstring."""

    def __init__(
        self,
        dsn: str,
        node_id: str,
        clock: Clock,
        liveness: Liveness,
        *,
        draining: Callable[[], bool],
        on_gone: Callable[[], None],
    ) -> None:
        self._dsn = dsn
        self._node_id = node_id
        self._clock = clock
        self._liveness = liveness
        self._draining = draining
        self._on_gone = on_gone
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: Any = None
        self._answered = 0.0
        """When the node's loop last ran the thread's question (``clock.monotonic()``)."""
        self._silent = False
        self.beats = 0
        """Heartbeats written (the row was there)."""

    def start(self) -> None:
        """Start beating; called on the node's event loop, which is the loop watched."""
        self._loop = asyncio.get_running_loop()
        self._answered = self._clock.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"fleet pulse {self._node_id}", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        """Stop beating and close the connection (waits for the thread's current beat)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.join, 10.0)

    # -- in the thread -------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            while not self._stop.wait(self._liveness.heartbeat_s):
                if not self._ask_loop():
                    return  # the node's loop is closed: nothing to vouch for
                if not self._liveness.beats(self._answered, self._clock.monotonic()):
                    if not self._silent:
                        _LOGGER.warning(
                            "fleet node %s: event loop silent for over %.0f s: heartbeat stops",
                            self._node_id,
                            self._liveness.loop_grace_s,
                        )
                    self._silent = True
                    continue
                self._silent = False
                loop.run_until_complete(self._beat())
        finally:
            loop.run_until_complete(self._close())
            loop.close()

    def _ask_loop(self) -> bool:
        if self._loop is None:
            return False
        try:
            self._loop.call_soon_threadsafe(self._answer)
        except RuntimeError:  # the loop is closed
            return False
        return True

    def _answer(self) -> None:
        """Runs on the node's loop: it is answering."""
        self._answered = self._clock.monotonic()

    async def _beat(self) -> None:
        timeout = max(self._liveness.dead_after_s - self._liveness.heartbeat_s, 1.0)
        try:
            async with asyncio.timeout(timeout):
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncpg.connect(
                        self._dsn,
                        server_settings={
                            "application_name": f"cloudconnector pulse {self._node_id}"[:63]
                        },
                    )
                status = await self._conn.execute(
                    _UPDATE, self._clock.now(), self._draining(), self._node_id
                )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            _LOGGER.warning("fleet node %s: heartbeat failed: %r", self._node_id, exc)
            await self._close()
            return
        if status == "UPDATE 1":
            self.beats += 1
            return
        # the row is gone: the others took this node for dead; the loop joins again
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._on_gone)

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                async with asyncio.timeout(2.0):
                    await conn.close()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                conn.terminate()
