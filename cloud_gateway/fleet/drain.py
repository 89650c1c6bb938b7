"""Graceful drain of a node: out of the load balancer, devices elsewhere, streams finished.

1. ``/healthz`` answers 503 ``draining`` (HAProxy takes the node out of rotation for new
   connections; established ones stay), and the fleet row says so;
2. after ``grace_s`` (the balancer's check interval times its fall count) every device is
   told by CONTROL ``{"type": "reconnect"}`` and REFUSE(overloaded) with a retry-after spread
   evenly over ``spread_s``, so they come back to the other nodes without a stampede; a tunnel
   that still carries streams (a download, a remote session) is given up to ``streams_s`` to
   finish first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from cloud_gateway.tunnels.registry import LiveTunnel, TunnelRegistry
from tunnel.frames import RefusalReason

__all__ = ["NodeDrain", "spread_retry_after"]

_LOGGER = logging.getLogger(__name__)


def spread_retry_after(index: int, count: int, spread_s: float) -> float:
    """The retry-after of the ``index``-th of ``count`` devices: evenly over the spread."""
    if count <= 1 or spread_s <= 0:
        return 1.0
    return 1.0 + spread_s * index / (count - 1)


class NodeDrain:
    """The node's drain state and procedure (one per node)."""

    def __init__(
        self,
        registry: TunnelRegistry,
        *,
        grace_s: float = 3.0,
        spread_s: float = 10.0,
        streams_s: float = 30.0,
    ) -> None:
        self._registry = registry
        self._grace_s = grace_s
        self._spread_s = spread_s
        self._streams_s = streams_s
        self.draining = False
        """Set once the drain has begun; ``/healthz`` reports it."""
        self.on_change: list[Callable[[bool], Awaitable[None]]] = []
        """Told when draining starts (the fleet row)."""
        self.sending_away = asyncio.Event()
        """Set when the grace time is over and the devices are being sent elsewhere."""

    async def run(self) -> int:
        """Drain the node; returns how many tunnels were sent elsewhere."""
        self.draining = True
        _LOGGER.info("draining: out of rotation in %.1f s", self._grace_s)
        for hook in self.on_change:
            try:
                await hook(True)
            except Exception:  # the fleet row is a courtesy; /healthz already says it
                _LOGGER.exception("drain hook failed")
        await asyncio.sleep(self._grace_s)
        self.sending_away.set()
        tunnels = self._registry.live()
        await asyncio.gather(
            *(
                self._send_away(tunnel, spread_retry_after(i, len(tunnels), self._spread_s))
                for i, tunnel in enumerate(tunnels)
            )
        )
        _LOGGER.info("drained: %d tunnels sent to other nodes", len(tunnels))
        return len(tunnels)

    async def _send_away(self, tunnel: LiveTunnel, retry_after: float) -> None:
        session = tunnel.session
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._streams_s):
                while session.stats().open_streams > 0:  # noqa: ASYNC110 - a counter, no event
                    await asyncio.sleep(0.2)
        with contextlib.suppress(ConnectionError, TimeoutError):
            async with asyncio.timeout(2.0):
                await session.send_control({"type": "reconnect", "retry_after": retry_after})
        await session.refuse(RefusalReason.OVERLOADED, retry_after, "node draining")
