"""The sleep injected into a :class:`tunnel.connector.TunnelConnector` in tests.

Nothing real is waited for: each call records its delay, may hold until the test releases
it, and may advance an injected :class:`ManualClock` by the delay so that the device's
timeline stays exact.
"""

from __future__ import annotations

import asyncio

from tunnel.clock import ManualClock

__all__ = ["InjectedSleep"]


class InjectedSleep:
    """Records every delay; ``called`` is set at the first call.

    - ``gated``: every call holds until the test sets :attr:`resume` (set once, it stays
      open);
    - ``hold_at=N``: the N-th call sets :attr:`holding` and holds until :attr:`resume` (never
      set: the connector stays parked in that wait until it is stopped);
    - ``clock``: after any hold, the clock advances by the delay.
    """

    def __init__(
        self, *, clock: ManualClock | None = None, hold_at: int | None = None, gated: bool = False
    ) -> None:
        self.delays: list[float] = []
        self.called = asyncio.Event()
        self.holding = asyncio.Event()
        self.resume = asyncio.Event()
        self.clock = clock
        self._hold_at = hold_at
        self._gated = gated

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.called.set()
        if self._gated or len(self.delays) == self._hold_at:
            self.holding.set()
            await self.resume.wait()
        if self.clock is not None:
            self.clock.advance(delay)
