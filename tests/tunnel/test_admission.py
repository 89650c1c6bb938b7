"""Admission control: a bound on handshakes in progress, refusals spread over the backlog."""

from __future__ import annotations

from tunnel.admission import HandshakeGate


def test_the_gate_admits_up_to_its_limit_and_frees_places() -> None:
    gate = HandshakeGate(2, now=lambda: 0.0)
    first, second = gate.try_enter(), gate.try_enter()
    assert first is not None
    assert second is not None
    assert gate.try_enter() is None
    with first:
        pass
    first.leave()  # idempotent
    assert gate.in_progress == 1
    assert gate.try_enter() is not None
    assert (gate.admitted_total, gate.refused_total) == (3, 1)


def test_retry_after_grows_with_the_backlog_and_stays_bounded() -> None:
    clock = [0.0]
    gate = HandshakeGate(
        1, min_retry=5.0, max_retry=120.0, min_rate=10.0, now=lambda: clock[0], rand=lambda: 1.0
    )
    assert gate.try_enter() is not None
    delays = [gate.retry_after() for _ in range(2000)]
    assert delays[0] == 5.0  # a small backlog: the shortest window
    assert delays == sorted(delays)
    assert delays[-1] == 120.0  # capped
    assert 40.0 < delays[500] < 60.0  # ~500 devices sent back at 10/s


def test_the_window_follows_the_measured_rate() -> None:
    clock = [0.0]
    gate = HandshakeGate(1000, min_rate=1.0, now=lambda: clock[0], rand=lambda: 1.0)
    for _ in range(500):  # 100 completions a second over the rate window
        ticket = gate.try_enter()
        assert ticket is not None
        ticket.leave()
    assert gate.rate() == 100.0
    for _ in range(999):
        gate.retry_after()
    assert gate.retry_after() == 10.0  # 1,000 waiting at 100/s
    clock[0] = 1000.0  # all due, none measured lately
    assert gate.retry_after() == 5.0
