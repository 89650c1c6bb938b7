"""Singletons across the fleet: a background job runs on the node holding its lease.

The lease is a PostgreSQL session advisory lock on the node's link (:mod:`.link`). A node
without it tries again every ``poll_s`` (spread a little); when the holder dies PostgreSQL frees
the lock with its connection, so the job moves within about ``poll_s``. A holder that loses its
link cancels the job at its next check (``check_s``), before PostgreSQL can give the lock to
another node, so two nodes never run the job at once while both can reach the database.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any

from cloud_gateway.fleet.link import PgLink, lease_key

__all__ = ["Singletons"]

_LOGGER = logging.getLogger(__name__)

JobFactory = Callable[[], Coroutine[Any, Any, None]]


class Singletons:
    """Runs jobs under leases; :attr:`held` names the jobs this node runs now."""

    def __init__(self, link: PgLink, *, poll_s: float = 1.0) -> None:
        self._link = link
        self._poll_s = poll_s
        self.held: set[str] = set()
        self.acquired = 0
        """Leases taken since start (for tests and metrics)."""

    async def run(self, name: str, factory: JobFactory) -> None:
        """Run ``factory()`` whenever this node holds the lease ``name``; until cancelled."""
        key = lease_key(name)
        while True:
            generation = await self._link.try_lock(key)
            if generation is None:
                await asyncio.sleep(self._poll_s * random.uniform(0.7, 1.0))  # noqa: S311
                continue
            self.acquired += 1
            self.held.add(name)
            _LOGGER.info("lease %s taken: running it on this node", name)
            job = asyncio.create_task(factory(), name=name)
            try:
                while not job.done() and self._link.holds(generation):
                    await asyncio.wait({job}, timeout=self._poll_s)
            finally:
                self.held.discard(name)
                if not job.done():
                    job.cancel()
                await asyncio.gather(job, return_exceptions=True)
                await self._link.unlock(key, generation)
            if not job.cancelled() and job.exception() is not None:
                _LOGGER.error("singleton %s failed: %r", name, job.exception())
            _LOGGER.info("lease %s given up", name)
            await asyncio.sleep(self._poll_s * random.uniform(0.7, 1.0))  # noqa: S311
