"""The liveness rule on the injected clock: a busy loop is tolerated, a dead node is not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from cloud_gateway.config import ClusterConfig
from cloud_gateway.fleet.liveness import Liveness
from tunnel.clock import ManualClock

RULE = Liveness.of(ClusterConfig(heartbeat_s=2.0, dead_after_s=10.0, loop_grace_s=60.0))


@dataclass
class _Node:
    """A node as the rule sees it: its thread beats every heartbeat while the loop answers."""

    clock: ManualClock
    heartbeat_at: datetime
    loop_answered_at: float
    thread_alive: bool = True

    def tick(self, *, loop_answers: bool) -> None:
        """One heartbeat period: the thread asks the loop and maybe writes the row."""
        self.clock.advance(RULE.heartbeat_s)
        if loop_answers:
            self.loop_answered_at = self.clock.monotonic()
        if self.thread_alive and RULE.beats(self.loop_answered_at, self.clock.monotonic()):
            self.heartbeat_at = self.clock.now()

    def dead(self) -> bool:
        return RULE.is_dead(self.heartbeat_at, self.clock.now())


def _node(clock: ManualClock) -> _Node:
    return _Node(clock, clock.now(), clock.monotonic())


def test_a_loop_busy_for_longer_than_the_old_timeout_keeps_the_node() -> None:
    clock = ManualClock()
    node = _node(clock)
    for _ in range(25):  # 50 s without an answer from the loop: five times dead_after_s
        node.tick(loop_answers=False)
        assert not node.dead()
    node.tick(loop_answers=True)
    assert not node.dead()


def test_a_loop_stuck_past_the_grace_is_reaped_within_the_bound() -> None:
    clock = ManualClock()
    node = _node(clock)
    stuck_at = clock.monotonic()
    while not node.dead():
        node.tick(loop_answers=False)
    stalled = clock.monotonic() - stuck_at
    assert RULE.loop_grace_s < stalled <= RULE.reaped_after_stall_s
    assert RULE.reaped_after_stall_s == 60.0 + 2.0 + 10.0 + 2.0


def test_a_killed_node_is_reaped_after_dead_after_and_not_before() -> None:
    clock = ManualClock()
    node = _node(clock)
    node.tick(loop_answers=True)
    last_beat = clock.monotonic()
    node.thread_alive = False  # SIGKILL: thread and loop gone together
    seen_alive = []
    while not node.dead():
        seen_alive.append(clock.monotonic() - last_beat)
        node.tick(loop_answers=False)
    gone_after = clock.monotonic() - last_beat
    assert max(seen_alive) <= RULE.dead_after_s
    assert RULE.dead_after_s < gone_after <= RULE.reaped_after_kill_s


def test_the_row_is_dead_only_strictly_past_dead_after() -> None:
    clock = ManualClock()
    beat = clock.now()
    clock.advance(RULE.dead_after_s)
    assert not RULE.is_dead(beat, clock.now())
    clock.advance(0.001)
    assert RULE.is_dead(beat, clock.now())


def test_a_grace_shorter_than_dead_after_is_refused() -> None:
    with pytest.raises(ValueError, match="loop_grace_s"):
        ClusterConfig(heartbeat_s=2.0, dead_after_s=10.0, loop_grace_s=5.0)
