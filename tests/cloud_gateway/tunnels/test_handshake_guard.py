"""The handshake guard: certificate first, per-source limits, short HELLO waits (pure)."""

from __future__ import annotations

import pytest

from cloud_gateway.tunnels.handshake_guard import GuardLimits, HandshakeGuard


def test_unverified_connections_share_a_small_budget_and_a_per_source_one() -> None:
    guard = HandshakeGuard(GuardLimits(unverified=3, unverified_per_source=2))
    a1 = guard.enter("10.0.0.1", verified=False)
    a2 = guard.enter("10.0.0.1", verified=False)
    assert a1 is not None
    assert a2 is not None
    assert guard.enter("10.0.0.1", verified=False) is None  # per source
    b1 = guard.enter("10.0.0.2", verified=False)
    assert b1 is not None
    assert guard.enter("10.0.0.3", verified=False) is None  # in all
    assert (guard.unverified_in_progress, guard.turned_away) == (3, 2)
    a1.leave()
    a1.leave()  # leaving twice frees one place
    assert guard.unverified_in_progress == 2
    c1 = guard.enter("10.0.0.3", verified=False)
    assert c1 is not None
    with c1:
        assert c1.hello_timeout == guard.limits.unverified_hello_s
    assert guard.unverified_in_progress == 2


def test_verified_devices_are_not_limited_by_the_unverified_crowd() -> None:
    guard = HandshakeGuard(GuardLimits(unverified=1, unverified_per_source=1))
    assert guard.enter("10.0.0.1", verified=False) is not None
    assert guard.enter("10.0.0.1", verified=False) is None
    passes = [guard.enter("10.0.0.1", verified=True) for _ in range(500)]
    assert all(p is not None and p.hello_timeout == guard.limits.hello_s for p in passes)


def test_verified_per_source_limit_when_configured() -> None:
    guard = HandshakeGuard(GuardLimits(verified_per_source=2))
    first = guard.enter("10.0.0.1", verified=True)
    assert first is not None
    assert guard.enter("10.0.0.1", verified=True) is not None
    assert guard.enter("10.0.0.1", verified=True) is None
    assert guard.enter("10.0.0.2", verified=True) is not None
    first.leave()
    assert guard.enter("10.0.0.1", verified=True) is not None


@pytest.mark.parametrize(
    "kwargs",
    [{"unverified": -1}, {"verified_per_source": 0}, {"hello_s": 0.0}, {"unverified_hello_s": -1}],
)
def test_limits_are_checked(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="GuardLimits"):
        GuardLimits(**kwargs)  # type: ignore[arg-type]
