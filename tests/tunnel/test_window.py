"""Receive-window auto-tuning (tunnel/window.py) with literal numbers."""

from __future__ import annotations

import pytest

from tunnel.clock import ManualClock
from tunnel.frames import Data, Frame, OpenOk, OpenStream
from tunnel.stream_table import OPEN_CREDIT, StreamTable
from tunnel.streams import Stream
from tunnel.window import MAX_WINDOW, TunnelWindows, WindowBudget, next_size

KIB = 1024


def _windows(
    clock: ManualClock, *, rtt: float | None, budget: WindowBudget, initial: int = 64 * KIB
) -> TunnelWindows:
    return TunnelWindows(initial=initial, budget=budget, now=clock.monotonic, rtt=lambda: rtt)


def _transfer(
    tuner_windows: TunnelWindows, clock: ManualClock, *, rate: float, rtt: float
) -> list[int]:
    """A sender limited by the window (window / RTT) or by the link (``rate`` bytes/s):
    each credit update comes after half the window was consumed at the achieved rate."""
    tuner = tuner_windows.tuner()
    sizes = [tuner.size]
    for _ in range(12):
        achieved = min(tuner.size / rtt, rate)
        clock.advance((tuner.size / 2) / achieved)
        sizes.append(tuner.update(tuner.size // 2))
    return sizes


def test_grows_to_the_bandwidth_delay_product_and_stops() -> None:
    # 20 Mbit/s = 2,500,000 B/s at 50 ms: BDP 125,000 bytes. Credit returns at half a
    # window, so the window settles at the first doubling >= 2 x BDP = 250,000.
    clock = ManualClock()
    budget = WindowBudget(limit=8 * 1024 * KIB)
    sizes = _transfer(_windows(clock, rtt=0.05, budget=budget), clock, rate=2_500_000, rtt=0.05)
    assert sizes[:4] == [65_536, 65_536, 131_072, 262_144]
    assert set(sizes[4:]) == {262_144}
    assert budget.used == 262_144 - 65_536


def test_a_slow_link_keeps_the_initial_window() -> None:
    # 1 Mbit/s at 50 ms: BDP 6,250 bytes, the 64 KiB window is plenty.
    clock = ManualClock()
    budget = WindowBudget(limit=8 * 1024 * KIB)
    sizes = _transfer(_windows(clock, rtt=0.05, budget=budget), clock, rate=125_000, rtt=0.05)
    assert set(sizes) == {65_536}
    assert budget.used == 0


def test_never_beyond_the_protocol_bound() -> None:
    # 1 Gbit/s at 100 ms wants 25 MB; the protocol allows 1 MiB.
    clock = ManualClock()
    budget = WindowBudget(limit=64 * 1024 * KIB)
    sizes = _transfer(_windows(clock, rtt=0.1, budget=budget), clock, rate=125_000_000, rtt=0.1)
    assert max(sizes) == MAX_WINDOW == 1_048_576
    assert sizes[-1] == 1_048_576


def test_never_beyond_the_tunnel_budget() -> None:
    clock = ManualClock()
    budget = WindowBudget(limit=300_000)
    windows = _windows(clock, rtt=0.1, budget=budget)
    first = _transfer(windows, clock, rate=125_000_000, rtt=0.1)
    second = _transfer(windows, clock, rate=125_000_000, rtt=0.1)
    # 64 KiB + 64 KiB + 128 KiB = 256 KiB, then the last 37,856 bytes of the budget;
    # a full budget is under pressure, so the window halves and grows again.
    assert max(first) == 65_536 + 300_000
    assert set(first[-2:]) == {65_536 + 300_000, (65_536 + 300_000) // 2}
    assert max(second) - 65_536 <= 300_000 - (first[-1] - 65_536)
    assert budget.used <= 300_000


def test_never_beyond_the_global_budget() -> None:
    clock = ManualClock()
    shared = WindowBudget(limit=100_000)
    one = _windows(clock, rtt=0.1, budget=WindowBudget(limit=1_000_000, parent=shared))
    two = _windows(clock, rtt=0.1, budget=WindowBudget(limit=1_000_000, parent=shared))
    a = _transfer(one, clock, rate=125_000_000, rtt=0.1)
    b = _transfer(two, clock, rate=125_000_000, rtt=0.1)
    assert max(a) == 65_536 + 100_000  # the first took all of it
    assert a[-1] + b[-1] <= 2 * 65_536 + 100_000
    assert shared.used <= 100_000


def test_shrinks_under_memory_pressure_and_returns_the_bytes() -> None:
    clock = ManualClock()
    shared = WindowBudget(limit=2_000_000)
    budget = WindowBudget(limit=2_000_000, parent=shared)
    tuner = _windows(clock, rtt=0.1, budget=budget).tuner()
    for _ in range(5):  # the first update only starts the clock
        clock.advance(0.01)
        tuner.update(tuner.size // 2)
    assert tuner.size == 1_048_576
    assert shared.used == 983_040
    # Another tunnel takes 766,960: 7/8 of the global budget is used, windows halve.
    other = WindowBudget(limit=2_000_000, parent=shared)
    assert other.reserve(766_960) == 766_960
    assert [shared.under_pressure] == [True]
    clock.advance(0.01)
    assert tuner.update(tuner.size // 2) == 524_288
    assert shared.used == 458_752 + 766_960
    assert not shared.under_pressure
    clock.advance(0.01)
    assert tuner.update(tuner.size // 2) == 1_048_576  # room again: it grows back
    tuner.release()
    assert budget.used == 0
    assert shared.used == 766_960
    assert tuner.size == 65_536


def test_no_growth_without_an_rtt() -> None:
    clock = ManualClock()
    budget = WindowBudget(limit=1_000_000)
    tuner = _windows(clock, rtt=None, budget=budget).tuner()
    for _ in range(5):
        clock.advance(0.001)
        assert tuner.update(tuner.size // 2) == 65_536


@pytest.mark.parametrize(
    ("size", "consumed", "interval", "rtt", "pressure", "free", "expected"),
    [
        (65_536, 32_768, None, 0.05, False, 10**9, 65_536),  # first update: no interval yet
        (65_536, 32_768, 0.025, 0.05, False, 10**9, 131_072),  # half in half an RTT: double
        (65_536, 32_768, 0.05, 0.05, False, 10**9, 65_536),  # half per RTT: what it needs
        (65_536, 32_768, 0.051, 0.05, False, 10**9, 65_536),  # slower: the link is the limit
        # DSL, 6.25 MB/s at a 54 ms RTT: 2 x 337,500 bytes needed, in 16 KiB steps; the
        # window grows to 688,128, not on to 1 MiB.
        (524_288, 262_144, 0.041943, 0.054, False, 10**9, 688_128),
        (688_128, 344_064, 0.05505, 0.054, False, 10**9, 688_128),
        # A credit held while the local receiver was full returns the whole window after
        # 19 ms at a 12.7 ms RTT: 13.8 MB/s x 12.7 ms x 2 = 350 KB > the window.
        (262_144, 262_144, 0.019, 0.0127, False, 10**9, 360_448),
        (262_144, 262_144, 0.027, 0.0127, False, 10**9, 262_144),  # 9.7 MB/s: 247 KB, stays
        (65_536, 32_768, 0.01, 0.05, False, 1_000, 66_536),  # only what the budget has
        (786_432, 393_216, 0.01, 0.05, False, 10**9, 1_048_576),  # not beyond the maximum
        (262_144, 131_072, 0.01, 0.05, True, 10**9, 131_072),  # pressure halves
        (98_304, 49_152, 0.01, 0.05, True, 10**9, 65_536),  # but never below the initial
        (65_536, 32_768, 0.01, 0.05, True, 10**9, 65_536),
    ],
)
def test_next_size(
    size: int,
    consumed: int,
    interval: float | None,
    rtt: float,
    pressure: bool,
    free: int,
    expected: int,
) -> None:
    assert (
        next_size(
            size,
            consumed=consumed,
            initial=65_536,
            maximum=MAX_WINDOW,
            interval=interval,
            rtt=rtt,
            pressure=pressure,
            free=free,
        )
        == expected
    )


def test_a_window_bound_stream_with_held_credit_grows() -> None:
    # Fibre, 300 Mbit/s at 10 ms (PING RTT 12.7 ms), a stream that opened beside another
    # at 256 KiB. The receiver's TCP buffer fills with each 128 KiB frame, so its credit
    # is held and comes back a whole window at a time, every 19 ms (the window's 7 ms on
    # the line plus the round trip): 110 Mbit/s. Measured against "half a window within
    # one RTT" that looked link-bound and the window never grew (the upload of the WAN
    # bench at 105 of 300 Mbit/s); by its rate it is window-bound and grows.
    clock = ManualClock()
    budget = WindowBudget(limit=8 * 1024 * KIB)
    windows = _windows(clock, rtt=0.0127, budget=budget, initial=256 * KIB)
    tuner = windows.tuner()
    tuner.saw_data()
    clock.advance(0.019)
    assert tuner.update(262_144) == 360_448
    clock.advance(0.019)
    assert tuner.update(360_448) == 491_520
    assert budget.used == 491_520 - 262_144


def test_an_idle_tunnel_reserves_nothing() -> None:
    shared = WindowBudget(limit=1_000_000)
    budget = WindowBudget(limit=1_000_000, parent=shared)
    clock = ManualClock()
    windows = _windows(clock, rtt=0.05, budget=budget)
    tuners = [windows.tuner() for _ in range(100)]
    assert {t.size for t in tuners} == {65_536}
    assert budget.used == shared.used == 0


def test_windows_shrink_while_another_stream_receives() -> None:
    # A bulk stream grew to 512 KiB; then a WebUI stream gets data: within two RTTs
    # (2 x 50 ms) the bulk window halves back towards its initial size, and grows again
    # once the bulk stream is alone for longer than that.
    clock = ManualClock()
    budget = WindowBudget(limit=8 * 1024 * KIB)
    windows = _windows(clock, rtt=0.05, budget=budget)
    bulk, webui = windows.tuner(), windows.tuner()
    bulk.saw_data()
    for _ in range(2):
        clock.advance(0.01)
        bulk.update(bulk.size // 2)
    assert bulk.size == 262_144
    webui.saw_data()
    bulk.saw_data()
    clock.advance(0.01)
    assert windows.contended(clock.monotonic(), 0.05)
    assert bulk.update(bulk.size // 2) == 131_072
    clock.advance(0.01)
    assert bulk.update(bulk.size // 2) == 65_536
    assert budget.used == 0
    clock.advance(0.1)  # bulk alone for two RTTs
    assert not windows.contended(clock.monotonic(), 0.05)
    assert bulk.update(bulk.size // 2) == 65_536  # 100 ms since the last update: not window-bound
    clock.advance(0.01)
    assert bulk.update(bulk.size // 2) == 131_072


def test_one_stream_alone_is_never_contended() -> None:
    clock = ManualClock()
    windows = _windows(clock, rtt=0.05, budget=WindowBudget(limit=1_000_000))
    tuner = windows.tuner()
    tuner.saw_data()
    clock.advance(0.2)
    for _ in range(10):
        tuner.saw_data()
    assert not windows.contended(clock.monotonic(), 0.05)


class _Queue:
    """A FrameQueue that keeps what the streams send (no wire needed here)."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []

    def send_frame(self, frame: Frame) -> None:
        self.frames.append(frame)

    def schedule(self, stream: Stream) -> None:
        pass


def test_a_request_on_another_stream_shrinks_a_grown_window() -> None:
    # A backup grew to 256 KiB. A WebUI request goes out on a second stream: before its
    # answer arrives, the backup's next credit update already halves its window.
    clock = ManualClock()
    windows = _windows(clock, rtt=0.05, budget=WindowBudget(limit=8 * 1024 * KIB))
    table = StreamTable(
        _Queue(), odd_ids=True, window=64 * KIB, windows=windows, open_credit=OPEN_CREDIT
    )
    backup = table.open("tcp://ccu:443")
    table.dispatch(OpenOk(backup.id, 64 * KIB))
    sizes = []
    for _ in range(3):  # half the window each 10 ms: the window, not the link, limits
        table.dispatch(Data(backup.id, bytes(backup.window_size // 2)))
        clock.advance(0.01)
        assert backup.read_nowait() is not None
        sizes.append(backup.window_size)
    assert sizes == [131_072, 262_144, 524_288]
    webui = table.open("tcp://ccu:80")
    assert webui.write_nowait(b"GET /webui/ HTTP/1.1\r\n\r\n") == 24
    clock.advance(0.01)
    table.dispatch(Data(backup.id, bytes(262_144)))
    assert backup.read_nowait() is not None
    assert backup.window_size == 262_144  # halved, where alone it would have doubled


def test_the_first_update_grows_when_the_half_window_came_within_an_rtt() -> None:
    # The clock of the first update starts at the stream's first byte: 32 KiB of a 64 KiB
    # window in 20 ms (RTT 50 ms) means the window limits, so it doubles at once; over a
    # link that needs 80 ms for them it stays.
    clock = ManualClock()
    windows = _windows(clock, rtt=0.05, budget=WindowBudget(limit=1_000_000))
    fast, slow = windows.tuner(), windows.tuner()
    fast.saw_data()
    clock.advance(0.02)
    assert fast.update(fast.size // 2) == 131_072
    slow.saw_data()
    clock.advance(0.08)
    assert slow.update(slow.size // 2) == 65_536


def _head_start(budget: WindowBudget, clock: ManualClock) -> TunnelWindows:
    return TunnelWindows(
        initial=256 * KIB,
        budget=budget,
        now=clock.monotonic,
        rtt=lambda: 0.05,
        start=MAX_WINDOW,
    )


def test_a_stream_opening_alone_gets_the_head_start() -> None:
    # DSL, 50 Mbit/s at 50 ms: 2 x BDP = 625,000 bytes. A download alone on its tunnel
    # starts at 1 MiB (786,432 bytes reserved beyond the initial 256 KiB) instead of
    # ramping up from 256 KiB; a stream opening beside it starts at 256 KiB.
    clock = ManualClock()
    shared = WindowBudget(limit=256 * 1024 * KIB)
    budget = WindowBudget(limit=8 * 1024 * KIB, parent=shared)
    windows = _head_start(budget, clock)
    download = windows.tuner(alone=True)
    assert download.size == 1_048_576
    assert budget.used == shared.used == 786_432
    page = windows.tuner(alone=False)
    assert page.size == 262_144
    assert budget.used == 786_432
    download.release()
    page.release()
    assert budget.used == shared.used == 0


def test_the_head_start_shrinks_like_growth() -> None:
    # A backup started alone at 1 MiB; a page request goes out beside it: at the
    # backup's next update the window halves, and the bytes go back to the budget.
    clock = ManualClock()
    budget = WindowBudget(limit=8 * 1024 * KIB)
    windows = _head_start(budget, clock)
    backup = windows.tuner(alone=True)
    backup.saw_data()
    page = windows.tuner()
    page.sent_data()
    clock.advance(0.01)
    assert backup.update(backup.size // 2) == 524_288
    assert budget.used == 262_144
    clock.advance(0.01)
    assert backup.update(backup.size // 2) == 262_144
    assert budget.used == 0


def test_no_head_start_from_a_budget_half_used() -> None:
    clock = ManualClock()
    shared = WindowBudget(limit=1_200_000)
    budget = WindowBudget(limit=8 * 1024 * KIB, parent=shared)
    windows = _head_start(budget, clock)
    assert shared.reserve(600_000) == 600_000  # other tunnels: half of it
    assert windows.tuner(alone=True).size == 262_144
    assert budget.used == 0
    shared.release(100_000)  # 500,000 used: room, but only 700,000 of the 786,432
    assert windows.tuner(alone=True).size == 262_144 + 700_000
    assert shared.used == 1_200_000


def test_without_a_start_the_window_starts_at_the_initial_one() -> None:
    clock = ManualClock()
    budget = WindowBudget(limit=1_000_000)
    windows = _windows(clock, rtt=0.05, budget=budget)
    assert windows.tuner(alone=True).size == 65_536
    assert budget.used == 0
    with pytest.raises(ValueError, match="start"):
        TunnelWindows(
            initial=65_536, budget=budget, now=clock.monotonic, rtt=lambda: 0.05, start=1_000
        )


def test_open_and_open_ok_announce_the_head_start() -> None:
    clock = ManualClock()
    queues = _Queue(), _Queue()
    gateway, device = (
        StreamTable(
            queue,
            odd_ids=odd,
            window=256 * KIB,
            windows=_head_start(WindowBudget(limit=8 * 1024 * KIB), clock),
        )
        for queue, odd in zip(queues, (True, False), strict=True)
    )
    first, second = gateway.open("tcp://ccu:443"), gateway.open("tcp://ccu:80")
    opens = [f for f in queues[0].frames if isinstance(f, OpenStream)]
    assert [o.window for o in opens] == [1_048_576, 262_144]
    accepted = [device.incoming(o) for o in opens]
    assert [s.credit if s else None for s in accepted] == [1_048_576, 262_144]
    for stream in accepted:
        assert stream is not None
        stream.accept()
    assert [f.window for f in queues[1].frames if isinstance(f, OpenOk)] == [1_048_576, 262_144]
    assert (first.window, second.window) == (1_048_576, 262_144)
