"""Admission control: a bound on handshakes in progress, a short queue, return slots."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from tunnel.admission import HandshakeGate
from tunnel.clock import ManualClock


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
    assert gate.admitted_total == 3


def test_the_gate_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="limit"):
        HandshakeGate(0)
    with pytest.raises(ValueError, match="return_share"):
        HandshakeGate(return_share=0.0)


async def test_a_full_gate_queues_and_hands_places_over_in_order() -> None:
    clock = ManualClock()
    gate = HandshakeGate(1, max_wait=4.0, min_rate=1.0, now=clock.monotonic)
    held = await gate.enter()
    assert held is not None
    first = asyncio.create_task(gate.enter())
    second = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)  # both reach the queue
    assert gate.waiting == 2
    assert gate.try_enter() is None  # nobody overtakes the queue
    held.leave()
    ticket = await first
    assert ticket is not None
    assert not second.done()
    assert (gate.in_progress, gate.waiting) == (1, 1)  # the place moved, it was not freed
    ticket.leave()
    last = await second
    assert last is not None
    last.leave()
    assert (gate.in_progress, gate.admitted_total, gate.queued_total) == (0, 3, 2)
    assert gate.refused_total == 0


async def test_the_queue_is_only_as_long_as_max_wait_at_the_measured_rate() -> None:
    clock = ManualClock()
    gate = HandshakeGate(1, max_wait=2.0, min_rate=1.0, now=clock.monotonic)
    _complete(gate, clock, 20, each=0.25)  # 20 completions in 5 busy seconds: 4 a second
    assert gate.rate() == 4.0
    held = gate.try_enter()
    assert held is not None
    queued = [asyncio.create_task(gate.enter()) for _ in range(9)]
    await asyncio.sleep(0)
    assert gate.waiting == 8  # 8 waiting at 4/s: 2 s; a ninth would wait longer
    assert queued[-1].done()
    assert queued[-1].result() is None
    assert gate.refused_total == 1
    clock.advance(10.0)  # no completions lately: the floor rate (1/s) applies
    assert gate.expected_wait() == 9.0
    for task in queued[:-1]:
        task.cancel()
    await asyncio.gather(*queued, return_exceptions=True)
    assert gate.waiting == 0
    held.leave()
    assert gate.in_progress == 0


async def test_a_cancelled_waiter_passes_a_place_it_was_just_given_on() -> None:
    gate = HandshakeGate(1, min_rate=10.0, now=lambda: 0.0)
    held = gate.try_enter()
    assert held is not None
    first = asyncio.create_task(gate.enter())
    second = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    held.leave()  # the place goes to `first` ...
    first.cancel()  # ... which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await first
    ticket = await second
    assert ticket is not None
    ticket.leave()
    assert (gate.in_progress, gate.waiting) == (0, 0)


def test_refused_devices_get_distinct_slots_at_a_share_of_the_rate() -> None:
    clock = ManualClock()
    gate = HandshakeGate(
        1000, min_retry=5.0, min_rate=1.0, return_share=0.5, now=clock.monotonic, rand=lambda: 0.5
    )
    _complete(gate, clock, 100, each=0.05)  # 20 a second: refused ones come back at 10 a second
    delays = [gate.retry_after() for _ in range(300)]
    assert delays[0] == pytest.approx(5.05)  # the first slot starts min_retry from now
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(delays)}
    assert gaps == {0.1}  # one device per 1/10 s, none sharing a slot
    assert delays[-1] == pytest.approx(34.95)
    clock.advance(30.0)  # slots handed out reach 35 s; none completed lately: 1/s floor
    assert gate.retry_after() == pytest.approx(5.0 + 0.5 * 2.0)  # the slot after them


def test_idle_seconds_do_not_lower_the_rate() -> None:
    # After a storm the refused devices wait for their slots and the gate sits idle between
    # them: it still manages what it managed while it had work, and says so.
    clock = ManualClock()
    gate = HandshakeGate(8, min_rate=1.0, now=clock.monotonic)
    _complete(gate, clock, 10, each=0.1)  # 10 in one busy second
    clock.advance(3.0)  # idle
    assert gate.rate() == pytest.approx(10.0)  # per busy second; per window second it was 2
    overlapping = [gate.try_enter() for _ in range(4)]  # 4 at once for half a second
    clock.advance(0.5)
    for ticket in overlapping:
        assert ticket is not None
        ticket.leave()
    assert gate.rate() == pytest.approx(14 / 1.5)
    clock.advance(5.1)  # all of it out of the window: the floor
    assert gate.rate() == 1.0


def test_completions_in_one_instant_count_over_at_least_a_second() -> None:
    gate = HandshakeGate(1, min_rate=1.0, now=lambda: 0.0)
    _complete(gate, None, 30, each=0.0)
    assert gate.rate() == 30.0


def _complete(gate: HandshakeGate, clock: ManualClock | None, count: int, *, each: float) -> None:
    """``count`` handshakes one after another, ``each`` seconds long."""
    for _ in range(count):
        ticket = gate.try_enter()
        assert ticket is not None
        if clock is not None:
            clock.advance(each)
        ticket.leave()


def test_retry_delays_are_capped() -> None:
    gate = HandshakeGate(1, min_retry=5.0, max_retry=60.0, min_rate=1.0, now=lambda: 0.0)
    delays = [gate.retry_after() for _ in range(200)]  # 0.5 a second: slots 2 s apart
    assert max(delays) == 60.0
    assert delays == sorted(delays)


async def test_a_device_queued_past_the_queue_timeout_is_refused() -> None:
    # 10/s: the estimate (0.1 s) lets it queue; nobody leaves, so the real wait runs out
    gate = HandshakeGate(1, max_wait=0.1, queue_timeout=0.1, min_rate=10.0, now=lambda: 0.0)
    held = gate.try_enter()
    assert held is not None
    assert await gate.enter() is None
    assert (gate.waiting, gate.refused_total, gate.in_progress) == (0, 1, 1)
    held.leave()
    assert gate.in_progress == 0


async def test_a_waiter_cancelled_in_the_turn_of_a_handover_leaves_the_gate_consistent() -> None:
    # An overloaded loop: the waiter's place is cancelled and, before the waiter runs again,
    # a leaving handshake passes over it (it is no longer queued when the waiter cleans up).
    gate = HandshakeGate(1, min_rate=10.0, now=lambda: 0.0)
    held = gate.try_enter()
    assert held is not None
    waiter = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)  # it queues
    assert gate.waiting == 1
    waiter.cancel()  # its place is cancelled at once ...
    held.leave()  # ... and the handover skips it in the same turn
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (gate.in_progress, gate.waiting) == (0, 0)
    assert gate.try_enter() is not None


async def test_queued_devices_timing_out_together_are_refused_not_raised() -> None:
    # Many devices queued, nobody leaves: every one is answered None (REFUSE overloaded),
    # none sees a TimeoutError, and a place freed afterwards is free, not handed to the gone.
    gate = HandshakeGate(1, max_wait=0.05, queue_timeout=0.05, min_rate=10_000.0, now=lambda: 0.0)
    held = gate.try_enter()
    assert held is not None
    answers = await asyncio.gather(*(gate.enter() for _ in range(50)))
    assert answers == [None] * 50
    assert (gate.waiting, gate.refused_total, gate.in_progress) == (0, 50, 1)
    held.leave()
    assert gate.in_progress == 0


async def test_an_overloaded_gate_answers_every_device_and_never_raises() -> None:
    # Brief b20 item 4: under overload (queue timeouts, handovers and cancellations of the
    # gone falling into the same loop turns) enter() answers a ticket or None; the only
    # exception is the caller's own cancellation, and the gate ends empty.
    rand = random.Random(20)
    gate = HandshakeGate(4, max_wait=0.02, queue_timeout=0.02, min_rate=10_000.0)

    async def device() -> str:
        ticket = await gate.enter()
        if ticket is None:
            return "refused"
        with ticket:
            await asyncio.sleep(rand.random() * 0.01)
        return "admitted"

    tasks = [asyncio.create_task(device()) for _ in range(400)]
    for index, task in enumerate(tasks):
        if index % 5 == 0:
            await asyncio.sleep(rand.random() * 0.005)
            task.cancel()  # a device that went away while queued or while admitted
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    unexpected = [o for o in outcomes if not isinstance(o, (str, asyncio.CancelledError))]
    assert unexpected == []
    assert {o for o in outcomes if isinstance(o, str)} == {"admitted", "refused"}
    assert (gate.in_progress, gate.waiting) == (0, 0)
    assert gate.try_enter() is not None
