"""Test 2, outbox crash points: the agent SIGKILLed at random points of its outbox's way.

The rig (:mod:`tests.support.telemetry_rig`) runs a real gateway process, the simulated
inverters and the agent process. After enrolment the agent is started again and again through
:mod:`tests.reliability.crashing_agent`, which SIGKILLs it at the n-th passage of a random point
(append / send / ack / delete, :mod:`inverter_agent.crashpoints`; n random), each time on the same
outbox file, whose ``PRAGMA integrity_check`` must then say ``ok``. At the end a normal agent
drains the outbox and the rig's exactly-once check proves that every reading the outbox ever
committed (its own audit trigger) is stored at the gateway once, in order per inverter, with no
gap in the sequence: 0 acknowledged readings lost.

The count is taken only after the agent stopped (:meth:`~tests.support.telemetry_rig.Rig.finish`):
a running agent may commit a cycle read before the inverters went dark after any look at its
outbox. Counted too early, such a cycle showed as "8 of 1,964 committed readings lost" on a loaded
machine; the second test replays that deterministically.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from inverter_agent.agent import encode_batch
from inverter_agent.crashpoints import CrashPoint
from inverter_agent.outbox import Outbox
from inverter_agent.readings import Reading
from tests.reliability.report import pick, record
from tests.support.processes import ChildProcess
from tests.support.telemetry_rig import Produced, Rig, Stored, integrity_check, rig, until

KILLS = pick(24, 200)
"""SIGKILLs in all (smoke / full)."""
LAST_PASSAGE = {
    CrashPoint.APPEND: 6,
    CrashPoint.SEND: 40,
    CrashPoint.ACK: 20,
    CrashPoint.DELETE: 20,
}
"""The n-th passage is drawn from 1..this (append passes once per bus cycle, send per entry)."""
KILL_TIMEOUT = 60.0
"""Bound for one crashing run to reach its point."""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(pick(400, 3000)),
]


async def _crash_once(r: Rig, point: CrashPoint, nth: int) -> None:
    crashing = ChildProcess(
        "crashing agent",
        "tests.reliability.crashing_agent",
        point.value,
        str(nth),
        "run",
        "--config",
        str(r.agent_toml),
    )
    try:
        await crashing.start()
        async with asyncio.timeout(KILL_TIMEOUT):
            code = await crashing.wait()
        assert code == -9, f"{point} #{nth}: exit {code}\n{crashing.output()}"
        assert f"crash point {point} #{nth}" in crashing.lines, crashing.output()
        assert not [line for line in crashing.lines if line.startswith("Traceback")]
    finally:
        await crashing.close()


def _missing(produced: Produced, stored: Stored) -> tuple[int, list[int]]:
    """Readings the outbox committed that the gateway lacks, and their outbox entries."""
    missing = {(sn, ts) for _s, sn, ts in produced.readings} - set(stored.readings)
    return len(missing), sorted({s for s, sn, ts in produced.readings if (sn, ts) in missing})


async def test_sigkill_at_outbox_crash_points_loses_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", "0")) or random.randrange(2**32)
    rng = random.Random(seed)
    points = list(CrashPoint)
    async with rig(tmp_path, buses=2, per_bus=4, poll_s=0.05, delay_s=0.0) as r:
        started = time.monotonic()
        await until(lambda: r.stored_count() >= 50, "readings to flow")
        await r.kill(r.agent)
        kills: Counter[CrashPoint] = Counter()
        damaged: list[str] = []
        for _ in range(KILLS):
            point = rng.choice(points)
            nth = rng.randint(1, LAST_PASSAGE[point])
            await _crash_once(r, point, nth)
            r.record_unacknowledged()
            kills[point] += 1
            verdict = integrity_check(r.outbox)
            if verdict != "ok":
                damaged.append(f"{point} #{nth}: {verdict}")

        await r.start_agent()
        restored = r.produced_count()
        await until(lambda: r.produced_count() >= restored + 50, "readings after the crashes")
        held = await r.finish()
        produced, stored = r.produced(), r.stored()
        taken = len(produced.readings)
        lost, missing_seqs = _missing(produced, stored)
        figure = (
            f"{sum(kills.values())} SIGKILLs ({', '.join(f'{p} {kills[p]}' for p in points)}), "
            f"{taken} readings committed, {lost} lost (outbox entries {missing_seqs[:10]}), "
            f"{produced.dropped} dropped as outbox overflow, {stored.rejected} batches rejected, "
            f"{len(r.resent)} resends deduplicated, {held} held at the stop and sent on, "
            f"integrity_check ok {sum(kills.values()) - len(damaged)}/{sum(kills.values())}, "
            f"seed {seed}, {time.monotonic() - started:.0f} s"
        )
        record("outbox_crash_points", figure, passed=not damaged and lost == 0)
        assert not damaged, damaged
        assert (produced.dropped, stored.rejected) == (0, 0)
        assert lost == 0, figure
        # an entry can miss its ACK in several rounds (killed again before the resend's ACK)
        r.resent = sorted(set(r.resent))
        r.check_exactly_once(minimum=100)  # and nothing twice, nothing else, in order


async def test_entry_committed_after_the_last_look_is_delivered_not_lost(tmp_path: Path) -> None:
    """The cause of the one failure under load, replayed deterministically.

    After the simulator closed, the agent may still commit a cycle whose answers it had read
    (or had in its socket buffer), after the rig's last look found its outbox empty and every
    key at the gateway: a descheduled agent does so before it handles SIGTERM. Measured with
    the agent frozen by SIGSTOP at random moments around the close: 5 of 20 tries committed 1
    or 2 entries after a look that said "all delivered"; with SIGTERM right after the thaw, 1
    of 8 runs left two such entries behind, and the old count said "8 lost" (a cycle of 4
    readings from each bus), as in the failure seen. Here the entry is committed at that
    moment on purpose (the agent's own outbox code, after the stop, which leaves the file as a
    commit just before the stop would). Counted the old way (wait, stop, compare) its readings
    are "lost", though the outbox holds them durably; :meth:`Rig.deliver_held`, the last step
    of :meth:`Rig.finish`, sends them on, and every reading is then stored exactly once.
    """
    async with rig(tmp_path, buses=1, per_bus=2, poll_s=0.05, delay_s=0.0) as r:
        await until(lambda: r.stored_count() >= 20, "readings to flow")
        await r.simulator.close()
        await r.wait_all_delivered()
        assert await r.agent.terminate() == 0
        # on a busy machine the agent itself may already have committed such a late cycle
        own = r.pending()
        own_readings = _missing(r.produced(), r.stored())[0]
        _seq, serial, last_ts = r.produced().readings[-1]
        late = [
            Reading(sn=serial, unit=1, ts=last_ts + 1_000),
            Reading(sn=serial, unit=1, ts=last_ts + 2_000),
        ]
        async with await Outbox.open(r.outbox, max_readings=1_000_000) as outbox:
            late_seq = await outbox.append(encode_batch(late))

        assert r.pending() == [*own, late_seq]
        # the old count: "lost"
        assert _missing(r.produced(), r.stored()) == (own_readings + 2, [*own, late_seq])

        assert await r.deliver_held() == len(own) + 1
        assert _missing(r.produced(), r.stored()) == (0, [])
        r.check_exactly_once(minimum=20)
