"""When a node counts as alive: the rule its heartbeat thread and the other nodes' reapers share.

A node's row is refreshed every ``heartbeat_s`` by a thread of its own (:mod:`.pulse`), not by
its event loop, so a loop busy with a storm of TLS handshakes no longer makes it look dead.
The thread still watches the loop: it writes only while the loop answered within
``loop_grace_s`` (a loop stuck for good, a deadlock, must not keep a useless node in the fleet).
The others remove a node whose row is older than ``dead_after_s``.

Bounds (``h`` = ``heartbeat_s``, ``d`` = ``dead_after_s``, ``g`` = ``loop_grace_s``):

- a live node whose loop answers at least every ``g`` seconds is never reaped, as long as its
  thread reaches the database within ``d - h`` of each beat (a thread waits for the CPU and the
  GIL, not for the loop);
- a killed node (SIGKILL, power) is reaped ``d`` to ``d + h`` after its last beat (the reapers
  look every ``h``);
- a node whose loop stopped answering is reaped at most ``g + h + d + h`` after the loop's
  last answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cloud_gateway.config import ClusterConfig

__all__ = ["Liveness"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Liveness:
    """The fleet's liveness rule (see the module docstring for its bounds)."""

    heartbeat_s: float
    """How often the heartbeat thread writes the node's row (and the reapers look)."""
    dead_after_s: float
    """A row older than this is a dead node."""
    loop_grace_s: float
    """How long the node's event loop may stay unanswering before the thread stops beating."""

    @classmethod
    def of(cls, config: ClusterConfig) -> Liveness:
        """The rule of a cluster configuration."""
        return cls(
            heartbeat_s=config.heartbeat_s,
            dead_after_s=config.dead_after_s,
            loop_grace_s=config.loop_grace_s,
        )

    def beats(self, loop_answered_at: float, now: float) -> bool:
        """Whether the thread writes the heartbeat at monotonic ``now``, the loop having
        last answered at ``loop_answered_at``."""
        return now - loop_answered_at <= self.loop_grace_s

    def dead_before(self, now: datetime) -> datetime:
        """Rows with an older heartbeat belong to dead nodes."""
        return now - timedelta(seconds=self.dead_after_s)

    def is_dead(self, heartbeat_at: datetime, now: datetime) -> bool:
        """Whether a node whose row was last written at ``heartbeat_at`` is dead at ``now``."""
        return heartbeat_at < self.dead_before(now)

    @property
    def reaped_after_kill_s(self) -> float:
        """At most this long after its last beat a killed node is gone."""
        return self.dead_after_s + self.heartbeat_s

    @property
    def reaped_after_stall_s(self) -> float:
        """At most this long after its loop's last answer a stuck node is gone."""
        return self.loop_grace_s + self.heartbeat_s + self.reaped_after_kill_s
