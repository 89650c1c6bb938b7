"""Who may wait for HELLO at ``/tunnel/v1``, and how long: the certificate first.

:class:`~tunnel.admission.HandshakeGate` bounds the handshakes in progress (64 places and a
short queue). Its places used to be free for anyone who finished TLS and the WebSocket upgrade:
a hundred connections without a client certificate that upgrade and then stay silent held them
until the HELLO timeout, and an enrolled device reconnecting meanwhile was refused
``overloaded``. The guard decides before a place is taken::

    verified device certificate ──► per-source check ──► gate place, HELLO within hello_s
    no verified certificate ──────► per-source check ──► one of `unverified` places of its own,
                                                         HELLO within unverified_hello_s,
                                                         then REFUSE(not_enrolled)
    over a limit ─────────────────► turned away at once (the WebSocket is closed)

Only connections without a verified device certificate are limited per source address by
default: enrolled devices may share one address by the hundred (carrier-grade NAT, a
reconnect storm from one site), and they are known and revocable. Pure bookkeeping: the
endpoint asks :meth:`HandshakeGuard.enter` and leaves the returned pass when the handshake
ends.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from types import TracebackType

__all__ = ["GuardLimits", "GuardPass", "HandshakeGuard"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardLimits:
    """The guard's bounds."""

    unverified: int = 4
    """Connections without a verified device certificate waiting for HELLO at once, in all."""
    unverified_per_source: int = 2
    """Of those, from one source address."""
    verified_per_source: int | None = None
    """Handshakes with a verified certificate in progress from one source address (None:
    unbounded; the gate bounds them in all)."""
    hello_s: float = 5.0
    """Longest silence after the upgrade for a device with a verified certificate (it sends
    HELLO right after the upgrade; the gateway's configured HELLO timeout caps this too)."""
    unverified_hello_s: float = 2.0
    """Longest silence for a connection without one."""

    def __post_init__(self) -> None:
        if self.unverified < 0 or self.unverified_per_source < 0:
            raise ValueError("GuardLimits: place counts must not be negative")
        if self.verified_per_source is not None and self.verified_per_source < 1:
            raise ValueError("GuardLimits: verified_per_source must be at least 1 or None")
        if self.hello_s <= 0 or self.unverified_hello_s <= 0:
            raise ValueError("GuardLimits: HELLO waits must be positive")


class GuardPass:
    """One connection let through the guard; leaving it (``with`` or :meth:`leave`) frees it."""

    __slots__ = ("_guard", "_left", "hello_timeout", "source", "verified")

    def __init__(self, guard: HandshakeGuard, source: str, *, verified: bool) -> None:
        self._guard = guard
        self._left = False
        self.source = source
        self.verified = verified
        self.hello_timeout = guard.limits.hello_s if verified else guard.limits.unverified_hello_s
        """How long this connection may stay silent before its HELLO."""

    def leave(self) -> None:
        if not self._left:
            self._left = True
            self._guard._leave(self)  # the pass belongs to its guard

    def __enter__(self) -> GuardPass:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.leave()


class HandshakeGuard:
    """Counts handshakes by certificate and source address; see the module docstring."""

    def __init__(self, limits: GuardLimits | None = None) -> None:
        self.limits = limits or GuardLimits()
        self.unverified_in_progress = 0
        self.turned_away = 0
        """Connections closed at once because a limit was reached."""
        self._unverified_by_source: Counter[str] = Counter()
        self._verified_by_source: Counter[str] = Counter()

    def enter(self, source: str, *, verified: bool) -> GuardPass | None:
        """A pass for this connection, or None: close it now."""
        limits = self.limits
        if verified:
            per_source = limits.verified_per_source
            if per_source is not None and self._verified_by_source[source] >= per_source:
                self.turned_away += 1
                return None
            self._verified_by_source[source] += 1
        else:
            if (
                self.unverified_in_progress >= limits.unverified
                or self._unverified_by_source[source] >= limits.unverified_per_source
            ):
                self.turned_away += 1
                return None
            self.unverified_in_progress += 1
            self._unverified_by_source[source] += 1
        return GuardPass(self, source, verified=verified)

    def _leave(self, entry: GuardPass) -> None:
        counts = self._verified_by_source if entry.verified else self._unverified_by_source
        counts[entry.source] -= 1
        if counts[entry.source] <= 0:
            del counts[entry.source]
        if not entry.verified:
            self.unverified_in_progress -= 1
