"""Capped exponential backoff with full jitter."""

from __future__ import annotations

import pytest

from tunnel.backoff import Backoff, BackoffPolicy


def test_ceiling_doubles_up_to_the_cap() -> None:
    policy = BackoffPolicy(base=1.0, cap=10.0)
    assert [policy.ceiling(n) for n in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.ceiling(10_000) == 10.0


def test_full_jitter_scales_the_ceiling() -> None:
    backoff = Backoff(BackoffPolicy(base=2.0, cap=100.0), rand=lambda: 0.25)
    assert [backoff.next_delay() for _ in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff.attempt == 4


def test_a_healthy_session_resets_the_counter() -> None:
    backoff = Backoff(BackoffPolicy(healthy_after=60.0), rand=lambda: 1.0)
    backoff.next_delay()
    backoff.next_delay()
    backoff.session_ended(uptime=5.0)
    assert backoff.attempt == 2
    backoff.session_ended(uptime=60.0)
    assert backoff.attempt == 0
    assert backoff.next_delay() == 1.0


def test_policy_is_validated() -> None:
    with pytest.raises(ValueError, match="base"):
        BackoffPolicy(base=0.0)
    with pytest.raises(ValueError, match="multiplier"):
        BackoffPolicy(multiplier=0.5)


def test_the_first_reconnect_after_a_session_uses_the_wide_window() -> None:
    backoff = Backoff(BackoffPolicy(reconnect_window=30.0), rand=lambda: 0.5)
    assert backoff.next_delay(after_session=True) == 15.0
    assert backoff.next_delay(after_session=True) == 1.0  # counter at 1: exponential again
    backoff.session_ended(uptime=5.0)  # short session: no reset, no wide window
    assert backoff.next_delay(after_session=True) == 2.0


def test_the_gateways_window_from_welcome_wins_over_the_policy() -> None:
    backoff = Backoff(BackoffPolicy(reconnect_window=120.0), rand=lambda: 0.5)
    backoff.window_hint = 8.0  # a small node: its few hubs come back within 8 s
    assert backoff.next_delay(after_session=True) == 4.0
    assert backoff.next_delay(after_session=True) == 1.0  # then the usual exponential steps


def test_the_default_window_spreads_a_fleet_over_two_minutes() -> None:
    """A restart of a gateway with 10,000 tunnels: at most ~83 reconnects a second."""
    assert BackoffPolicy().reconnect_window == 120.0
    highest = Backoff(rand=lambda: 0.999).next_delay(after_session=True)
    lowest = Backoff(rand=lambda: 0.0).next_delay(after_session=True)
    assert (lowest, round(highest, 2)) == (0.0, 119.88)
    assert Backoff(rand=lambda: 0.999).next_delay() < 1.0  # a failed first connect: not wide


def test_a_busy_gateway_caps_the_growing_ceiling_at_30_s() -> None:
    """Closed before TLS (ADR 0032): the ceiling grows as after any failure, up to 30 s."""
    policy = BackoffPolicy()
    assert [policy.ceiling(k, busy=True) for k in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]
    assert [policy.ceiling(k) for k in range(10)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert policy.delay(20, lambda: 0.999, busy=True) == 29.97  # back within 30 s
    assert policy.delay(20, lambda: 0.0, busy=True) == 0.0  # full jitter: from zero


def test_each_delay_follows_the_last_failure_and_the_counter_keeps_growing() -> None:
    backoff = Backoff(rand=lambda: 0.5)
    delays = [backoff.next_delay(busy=True) for _ in range(7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
    assert backoff.next_delay() == 64.0  # the gateway is gone now (attempt 7): the long cap
    assert backoff.next_delay(busy=True) == 15.0  # it answers again, busy: back to 30 s
    assert backoff.attempt == 9
    backoff.session_ended(uptime=60.0)  # a session that lasted resets the counter
    assert backoff.next_delay(busy=True) == 0.5


def test_the_busy_cap_never_exceeds_the_cap_and_is_validated() -> None:
    assert BackoffPolicy(cap=10.0).ceiling(10, busy=True) == 10.0
    assert BackoffPolicy(busy_cap=5.0).ceiling(10, busy=True) == 5.0
    with pytest.raises(ValueError, match="busy_cap"):
        BackoffPolicy(busy_cap=0.0)
