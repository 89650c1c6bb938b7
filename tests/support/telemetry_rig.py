"""The exactly-once rig: a gateway process, a TCP proxy, simulated inverters, an agent process.

Everything is real and separate: the gateway runs as ``cloud-gateway serve`` (TLS, SQLite
file), the agent as ``inverter-agent run`` (so SIGKILL is a real kill -9), the inverters are the
shared simulator on Modbus TCP, and between agent and gateway sits a TCP proxy
(:mod:`tests.support.tcp_proxy`) that plays the network: it cuts connections, refuses or holds
new ones, and can delay the gateway's answers like a WAN. The agent enrols itself through the
gateway's real HTTP API (its own enrolment client; the test enters the pairing code it logs in
the portal).

Ground truth (what the agent produced) is recorded by the agent's own outbox transaction: before
the first start the rig adds a trigger to the outbox file that copies the ``(seq, sn, ts)`` of
every reading of an appended entry into an audit table. The trigger runs inside the agent's
append transaction, so a reading is in the audit exactly when its entry was committed, which is
when it "counts as taken" (DESIGN.md, Storage); it touches no counter the agent keeps. The
gateway side is read from its SQLite file: ``telemetry_batches`` (the dedup keys) and
``readings``.

Used by ``tests/e2e/test_telemetry_exactly_once.py`` and the reliability suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import sqlite3
import ssl
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from inverter_agent.agent import OUTBOX_FILE
from inverter_agent.outbox import Outbox
from simulator.inverter import TcpInverterServer
from tests.inverter_agent.simulated import inverters
from tests.support.device_webui import browser
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.processes import ChildProcess
from tests.support.tcp_proxy import TcpProxy
from tunnel.clock import SystemClock

__all__ = [
    "COMMIT_POLL_S",
    "FLOW_TIMEOUT",
    "PASSWORD",
    "SERVING",
    "START_TIMEOUT",
    "Produced",
    "Rig",
    "Stored",
    "integrity_check",
    "rig",
    "until",
]

START_TIMEOUT = 30.0
"""Bound for a process to come up (imports on a busy 2-core box)."""
FLOW_TIMEOUT = 60.0
"""Bound for a phase of readings to accrue or drain."""
COMMIT_POLL_S = 0.003
"""How often the gateway's database is looked at while waiting for the next commit."""

PASSWORD = "Sonnig!2026"
SERVING = re.compile(r"cloud-gateway: serving https://[^:/]+:(\d+)/")
"""The line ``cloud-gateway serve`` prints when it listens, with its port."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_AUDIT = """
CREATE TABLE audit_readings (seq INTEGER NOT NULL, sn TEXT NOT NULL, ts INTEGER NOT NULL);
CREATE TRIGGER audit_append AFTER INSERT ON readings BEGIN
    INSERT INTO audit_readings (seq, sn, ts)
    SELECT NEW.seq, json_extract(value, '$.sn'), json_extract(value, '$.ts')
    FROM json_each(CAST(NEW.payload AS TEXT))
    WHERE json_extract(value, '$.k') = 'reading';
END;
"""


@contextlib.contextmanager
def _db(path: Path) -> Iterator[sqlite3.Connection]:
    """A short autocommit connection (never holds a read transaction open)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    try:
        yield conn
    finally:
        conn.close()


def integrity_check(path: Path) -> str:
    """SQLite's ``PRAGMA integrity_check`` of a database file (``"ok"`` when sound)."""
    with _db(path) as db:
        rows = db.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows)


def _ms(stamp: str) -> int:
    """A ``UtcDateTime`` as SQLite holds it (naive UTC) → milliseconds since the epoch."""
    at = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
    return (at - _EPOCH) // timedelta(milliseconds=1)


async def until(
    condition: Callable[[], bool], what: str, *, every: float = 0.05, timeout: float = FLOW_TIMEOUT
) -> None:
    """Wait (bounded) until ``condition()`` holds, looking every ``every`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():  # noqa: ASYNC110 - other processes' databases, no event
                await asyncio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


@dataclass
class Produced:
    """What the agent committed to its outbox (the audit) and what the outbox still holds."""

    next_seq: int
    dropped: int
    pending: list[int]
    readings: list[tuple[int, str, int]]
    """(seq, serial, ts) of every reading ever appended, in append order."""


@dataclass
class Stored:
    """What the gateway committed for the device."""

    keys: list[int]
    rejected: int
    readings: list[tuple[str, int]]
    """(serial, ts) in insertion order."""


@dataclass
class Rig:
    """Gateway process, proxy, simulated inverters and the agent process of one test."""

    tmp: Path
    proxy: TcpProxy
    gateway: ChildProcess
    agent: ChildProcess
    gateway_db: Path
    state_dir: Path
    device_id: int
    simulator: TcpInverterServer
    agent_toml: Path
    resent: list[int] = field(default_factory=list)
    """Entries committed by the gateway whose ACK the agent never saw (sent again later)."""

    @property
    def outbox(self) -> Path:
        return self.state_dir / OUTBOX_FILE

    # --- processes -------------------------------------------------------------------------

    async def start_gateway(self) -> int:
        """(Re)start ``cloud-gateway serve`` and point the proxy at it; its port."""
        mark = self.gateway.mark()
        await self.gateway.start()
        match = await self.gateway.wait_for(SERVING.pattern, timeout=START_TIMEOUT, after=mark)
        port = int(match.group(1))
        self.proxy.target = ("127.0.0.1", port)
        return port

    async def start_agent(self) -> None:
        mark = self.agent.mark()
        await self.agent.start()
        await self.agent.wait_for("inverter-agent running", timeout=START_TIMEOUT, after=mark)

    def tracebacks(self) -> list[str]:
        """Lines of either process that start a Python traceback."""
        return [
            line for line in self.agent.lines + self.gateway.lines if line.startswith("Traceback")
        ]

    async def kill(self, process: ChildProcess) -> None:
        process.kill()
        assert await process.wait() == -9

    # --- the two databases -----------------------------------------------------------------

    def produced_count(self) -> int:
        with _db(self.outbox) as db:
            (n,) = db.execute("SELECT count(*) FROM audit_readings").fetchone()
        return int(n)

    def pending(self) -> list[int]:
        with _db(self.outbox) as db:
            return [s for (s,) in db.execute("SELECT seq FROM readings ORDER BY seq")]

    def next_seq(self) -> int:
        with _db(self.outbox) as db:
            (value,) = db.execute("SELECT value FROM counters WHERE name = 'next_seq'").fetchone()
        return int(value)

    def oldest_pending(self) -> int | None:
        """The oldest entry still in the outbox (``None``: empty)."""
        with _db(self.outbox) as db:
            (seq,) = db.execute("SELECT min(seq) FROM readings").fetchone()
        return None if seq is None else int(seq)

    def produced(self) -> Produced:
        with _db(self.outbox) as db:
            counters = dict(db.execute("SELECT name, value FROM counters").fetchall())
            pending = [s for (s,) in db.execute("SELECT seq FROM readings ORDER BY seq")]
            rows = db.execute("SELECT seq, sn, ts FROM audit_readings ORDER BY rowid").fetchall()
        return Produced(counters["next_seq"], counters["dropped"], pending, rows)

    def keys(self) -> set[int]:
        with _db(self.gateway_db) as db:
            rows = db.execute(
                "SELECT seq FROM telemetry_batches WHERE device_id = ?", (self.device_id,)
            )
            return {s for (s,) in rows}

    def newest_key(self) -> int:
        with _db(self.gateway_db) as db:
            (seq,) = db.execute(
                "SELECT max(seq) FROM telemetry_batches WHERE device_id = ?", (self.device_id,)
            ).fetchone()
        return 0 if seq is None else int(seq)

    def committed_beyond(self, seq: int) -> bool:
        return self.newest_key() > seq

    def holds_keys(self, count: int) -> bool:
        return self.key_count() >= count

    def key_count(self) -> int:
        with _db(self.gateway_db) as db:
            (n,) = db.execute(
                "SELECT count(*) FROM telemetry_batches WHERE device_id = ?", (self.device_id,)
            ).fetchone()
        return int(n)

    def delivered_up_to(self, seq: int) -> bool:
        """Whether every entry up to ``seq`` is stored at the gateway and gone from the outbox."""
        oldest = self.oldest_pending()
        return (oldest is None or oldest > seq) and self.key_count() >= seq

    def stored_count(self) -> int:
        with _db(self.gateway_db) as db:
            (n,) = db.execute(
                "SELECT count(*) FROM readings WHERE device_id = ?", (self.device_id,)
            ).fetchone()
        return int(n)

    def stored(self) -> Stored:
        with _db(self.gateway_db) as db:
            keys = db.execute(
                "SELECT seq, rejected FROM telemetry_batches WHERE device_id = ? ORDER BY seq",
                (self.device_id,),
            ).fetchall()
            rows = db.execute(
                "SELECT serial, at FROM readings WHERE device_id = ? ORDER BY id",
                (self.device_id,),
            ).fetchall()
        return Stored(
            keys=[s for s, _r in keys],
            rejected=sum(1 for _s, r in keys if r),
            readings=[(serial, _ms(at)) for serial, at in rows],
        )

    def record_unacknowledged(self) -> int:
        """Entries the gateway committed that the agent still holds: they will be resent.

        Only call this while no session can run (proxy refusing or holding, or the agent
        dead), so neither side changes. (An outbox delete for an ACK that arrived just before
        the link died ends within milliseconds; a gateway restart takes seconds.)
        """
        unacked = sorted(set(self.pending()) & self.keys())
        self.resent += unacked
        return len(unacked)

    async def wait_all_delivered(self, timeout: float = FLOW_TIMEOUT) -> None:
        """Until the outbox is empty and the gateway holds a key for every sequence."""
        await until(
            lambda: self.delivered_up_to(self.next_seq() - 1),
            "every entry acknowledged and stored",
            timeout=timeout,
        )

    async def finish(self, timeout: float = FLOW_TIMEOUT) -> int:
        """Night falls: the inverters go dark, the agent delivers what it took and stops.

        Returns how many entries the stopped agent still held (see below; usually 0).

        No look at a *running* agent's outbox is the last one: a cycle whose answers the
        agent read (or had in its socket buffer) before the simulator closed can be committed
        after any look, when a loaded machine deschedules the agent at the wrong moment. The
        wait below may then see an empty outbox and every key at the gateway, and the entry
        appears just after it, before SIGTERM is handled. So the agent is stopped first, and
        what its outbox holds then (it no longer changes) is delivered by
        :meth:`deliver_held`. This was the "8 of 1,964 committed readings lost" of the outbox
        crash-point test: two such cycles (4 readings each) counted as lost.
        """
        await self.simulator.close()
        await self.wait_all_delivered(timeout)
        assert await self.agent.terminate() == 0
        return await self.deliver_held(timeout)

    async def deliver_held(self, timeout: float = FLOW_TIMEOUT) -> int:
        """Run the stopped agent again until its outbox is empty; how many entries it held.

        Only after the simulator closed: the agent then takes no reading, so its outbox only
        shrinks, and once it is empty and the agent stopped again, the count is final.
        """
        held = len(self.pending())
        if held:
            await self.start_agent()
            await self.wait_all_delivered(timeout)
            assert await self.agent.terminate() == 0
        assert self.pending() == [], "the agent took readings with the inverters dark"
        return held

    def check_exactly_once(self, minimum: int) -> tuple[Produced, Stored]:
        """The assertions both tests end with; returns what they compared."""
        produced, stored = self.produced(), self.stored()
        entries = produced.next_seq - 1
        assert produced.dropped == 0
        assert produced.pending == []
        assert len(produced.readings) >= minimum
        # every committed entry arrived, once; nothing else arrived
        assert stored.keys == list(range(1, entries + 1))
        assert stored.rejected == 0
        # every reading the agent took is stored exactly once, and nothing else is
        made = [(sn, ts) for _seq, sn, ts in produced.readings]
        assert len(set(made)) == len(made), "the agent produced a reading twice"
        duplicates = [r for r, n in Counter(stored.readings).items() if n > 1]
        assert duplicates == [], f"{len(duplicates)} readings stored twice"
        assert len(stored.readings) == len(made)
        assert Counter(stored.readings) == Counter(made)
        # in order per inverter, at the agent and at the gateway
        for readings in (made, stored.readings):
            series: dict[str, list[int]] = defaultdict(list)
            for sn, ts in readings:
                series[sn].append(ts)
            for sn, stamps in series.items():
                assert all(a < b for a, b in itertools.pairwise(stamps)), sn
        # the resends recorded on the way were deduplicated (stored once: checked above)
        assert len(set(self.resent)) == len(self.resent)
        return produced, stored


async def _pair(gateway_url: str, ca_file: Path, code: str) -> None:
    """The owner logs in to the portal and enters the agent's pairing code."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    async with browser(gateway_url, ctx) as http:
        token = await GatewayHarness.form_token(http, "/login")
        form = {"csrf_token": token, "login": "anna", "password": PASSWORD, "next": "/portal"}
        async with http.post("/login", data=form) as resp:
            assert resp.status == 200, await resp.text()
        token = await GatewayHarness.form_token(http, "/portal/devices/pair")
        form = {"csrf_token": token, "code": code}
        async with http.post("/portal/devices/pair", data=form) as resp:
            assert resp.status == 200, await resp.text()


@asynccontextmanager
async def rig(
    tmp_path: Path, *, buses: int, per_bus: int, poll_s: float, delay_s: float
) -> AsyncIterator[Rig]:
    """Gateway process, proxy, simulated inverters, and an enrolled agent process running.

    The agent enrols itself (``inverter_agent/enrol.py``): it logs its pairing code, the owner
    enters it in the portal of the gateway process, the agent stores its certificate and
    connects. ``async with`` stops everything.
    """
    gateway_dir = tmp_path / "gateway"
    gateway_db = tmp_path / "gateway.sqlite3"
    db_url = f"sqlite+aiosqlite:///{gateway_db}"
    state_dir = tmp_path / "agent"
    # The owner's account (and the gateway's TLS material), made by an in-process gateway on
    # the same state folder and database the gateway process uses afterwards.
    async with gateway_harness(tmp_path, db_url, SystemClock()) as gw:
        await gw.create_account("anna", PASSWORD)
        ca_file = gw.gateway.tls.ca_cert
        assert ca_file is not None
    outbox = await Outbox.open(state_dir / OUTBOX_FILE, max_readings=1_000_000)
    await outbox.close()
    with _db(state_dir / OUTBOX_FILE) as db:
        db.executescript(_AUDIT)

    gateway_toml = tmp_path / "gateway.toml"
    gateway_toml.write_text(
        f'state_dir = "{gateway_dir}"\n'
        f'[http]\nhost = "127.0.0.1"\nport = 0\n'
        f'[database]\nurl = "{db_url}"\n'
        f"[enrolment]\npoll_interval_s = 0.2\n"
        # one agent: its first reconnect after a gateway kill is spread over 1 s, not 120
        f"[tunnel]\nreconnect_window_s = 1.0\n"
        "[plants]\ndemo_activation_key = true\n"
    )
    bus = inverters(buses * per_bus)
    units = [i.unit_id for i in bus]
    async with (
        TcpProxy(downstream_delay_s=delay_s) as proxy,
        TcpInverterServer(bus, "127.0.0.1", 0) as simulator,
    ):
        gp = ChildProcess("gateway", "cloud_gateway.cli", "serve", "--config", str(gateway_toml))
        agent_toml = tmp_path / "agent.toml"
        text = (
            f'state_dir = "{state_dir}"\n'
            f'[gateway]\nurl = "https://127.0.0.1:{proxy.port}/"\nca_file = "{ca_file}"\n'
        )
        for b in range(buses):
            text += (
                f'[[buses]]\nkind = "tcp"\nhost = "127.0.0.1"\nport = {simulator.port}\n'
                f"unit_ids = {units[b * per_bus : (b + 1) * per_bus]}\n"
                f"poll_interval_s = {poll_s}\ntimeout_s = 2.0\nretries = 0\nturnaround_s = 0.0\n"
            )
        agent_toml.write_text(text)
        agent = ChildProcess("agent", "inverter_agent.cli", "run", "--config", str(agent_toml))
        the_rig = Rig(tmp_path, proxy, gp, agent, gateway_db, state_dir, 0, simulator, agent_toml)
        try:
            port = await the_rig.start_gateway()
            await agent.start()
            code = await agent.wait_for(r"pairing code (\S+):", timeout=START_TIMEOUT)
            await _pair(f"https://localhost:{port}/", ca_file, code.group(1))
            slug = await agent.wait_for(r"enrolled as (\S+)", timeout=START_TIMEOUT)
            await agent.wait_for("tunnel: connected", timeout=START_TIMEOUT)
            with _db(gateway_db) as db:
                (the_rig.device_id,) = db.execute(
                    "SELECT id FROM devices WHERE slug = ?", (slug.group(1),)
                ).fetchone()
            yield the_rig
        except BaseException:
            print(agent.output(), gp.output(), sep="\n")
            raise
        finally:
            await agent.close()
            await gp.close()
