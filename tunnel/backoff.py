"""Reconnect delays: capped exponential backoff with full jitter, pure.

``delay = rand() * min(cap, base * multiplier ** attempt)`` ("full jitter"): a fleet of
devices that lost the gateway at the same instant spreads its reconnects over the whole
window instead of arriving in waves. The attempt counter resets after a session that
stayed up for ``healthy_after`` seconds. The first reconnect after an established session
was lost waits ``rand() * reconnect_window`` instead (default 120 s): when a gateway
restarts, its whole fleet loses the session in the same instant, and a one-second window
would bring every device back within that second. The window sets the rate at which a
fleet returns (10,000 devices over 120 s: 83 a second, which one 2-core gateway node
completes; over the former 30 s, 333 a second, which it did not: ADR 0007, "Storm"); the
price is a mean wait of a minute before a device that lost its session alone reconnects.
The gateway may name the window itself in WELCOME (``reconnect_window``, sized to its node:
a handful of hubs need no two minutes); the last one heard wins over the policy's default.

A gateway that closed the connection before TLS (its handshake budget was full, ADR 0032)
is busy, not down: such an attempt costs the device milliseconds where a timed-out one cost
it 15 s, so counting attempts alone grows the wait to the 300 s cap within seconds of a
storm, and the last devices sit out minutes while the gateway is idle again. After a busy
refusal the ceiling keeps growing with the attempts but stops at ``busy_cap`` (30 s): with
full jitter a refused fleet still spreads (10,000 devices retry at about 670 a second, a
refusal costs the gateway ~80 µs and no TLS work), and every device is back within
``busy_cap`` of the gateway having room (gRPC's connection backoff caps every failure at
120 s; ADR 0032, amendment). ``rand`` is injected, so tests are exact.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff", "BackoffPolicy"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BackoffPolicy:
    """How long to wait before reconnect attempt number ``n``."""

    base: float = 1.0
    """Upper bound of the first delay, in seconds."""
    multiplier: float = 2.0
    """Growth of the upper bound per failed attempt."""
    cap: float = 300.0
    """Largest upper bound, in seconds."""
    healthy_after: float = 60.0
    """A session up for this many seconds resets the attempt counter."""
    reconnect_window: float = 120.0
    """Upper bound of the first delay after an established session was lost (fleet-wide
    losses, e.g. a gateway restart, come back spread over this window)."""
    busy_cap: float = 30.0
    """Largest upper bound after the gateway closed the connection before TLS (busy, not
    down): a refused device is back within this many seconds once the gateway has room."""

    def __post_init__(self) -> None:
        if self.reconnect_window < 0:
            raise ValueError("backoff needs reconnect_window >= 0")
        if self.busy_cap <= 0:
            raise ValueError("backoff needs busy_cap > 0")
        if not 0 < self.base <= self.cap:
            raise ValueError("backoff needs 0 < base <= cap")
        if self.multiplier < 1:
            raise ValueError("backoff multiplier must be at least 1")

    def ceiling(self, attempt: int, *, busy: bool = False) -> float:
        """The upper bound of the delay before attempt ``attempt`` (0-based); ``busy``: the
        attempt that failed was closed by the gateway before TLS."""
        exponent = min(max(attempt, 0), 64)
        cap = min(self.cap, self.busy_cap) if busy else self.cap
        return float(min(cap, self.base * self.multiplier**exponent))

    def delay(self, attempt: int, rand: Callable[[], float], *, busy: bool = False) -> float:
        """A full-jitter delay in ``[0, ceiling(attempt, busy=busy))``."""
        return rand() * self.ceiling(attempt, busy=busy)


class Backoff:
    """The attempt counter of one reconnect loop."""

    def __init__(
        self, policy: BackoffPolicy | None = None, rand: Callable[[], float] = random.random
    ) -> None:
        self.policy = policy or BackoffPolicy()
        self._rand = rand
        self.attempt = 0
        """Failed attempts since the last healthy session."""
        self.window_hint: float | None = None
        """The gateway's ``reconnect_window`` from the last WELCOME; overrides the policy's."""

    def next_delay(self, *, after_session: bool = False, busy: bool = False) -> float:
        """The delay before the next attempt; counts this attempt.

        ``after_session``: the attempt that just ended had an established session; if the
        counter is at zero, the delay is drawn from the wider ``reconnect_window``.
        ``busy``: the gateway closed it before TLS; the ceiling stops at ``busy_cap``.
        """
        if after_session and self.attempt == 0:
            window = self.policy.reconnect_window if self.window_hint is None else self.window_hint
            delay = self._rand() * max(window, self.policy.base)
        else:
            delay = self.policy.delay(self.attempt, self._rand, busy=busy)
        self.attempt += 1
        return delay

    def session_ended(self, uptime: float) -> None:
        """Reset the counter if the session that just ended was healthy."""
        if uptime >= self.policy.healthy_after:
            self.reset()

    def reset(self) -> None:
        self.attempt = 0
