"""The durable outbox: readings wait here, on disk, until the gateway has acknowledged them.

Its own SQLite file (WAL, ``synchronous=FULL``), driven by stdlib :mod:`sqlite3` on one dedicated
thread, so that the event loop never blocks on the disk and every operation is one transaction.

* :meth:`Outbox.append` returns only after the commit: a reading counts as taken once it has
  its sequence number.
* Sequence numbers are one monotonic series per outbox (that is, per agent device), stored in
  the file, never reused, also not after every reading was acknowledged or the process was
  killed. The gateway deduplicates on (device, sequence).
* :meth:`Outbox.batch` hands out the oldest unacknowledged readings; :meth:`Outbox.ack` deletes
  them (a cumulative sequence number or an explicit set).
* Bounded: with more than ``max_readings`` waiting, the oldest are dropped in the same
  transaction, the persistent ``dropped`` counter grows and a WARNING is logged. The gateway
  sees the drop as a gap in the sequence.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from inverter_agent.crashpoints import CrashPoint, reached
from inverter_agent.errors import OutboxError
from inverter_agent.readings import InverterInfo, Reading, encode_payload

__all__ = ["Outbox", "OutboxEntry", "OutboxSink", "OutboxStats"]

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (seq INTEGER PRIMARY KEY, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters (name, value) VALUES ('next_seq', 1), ('dropped', 0);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEntry:
    """One stored reading."""

    seq: int
    """Its sequence number."""
    payload: bytes
    """The encoded payload (:mod:`inverter_agent.readings`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxStats:
    """What the outbox holds and has lost."""

    pending: int
    """Readings waiting for an acknowledgement."""
    next_seq: int
    """The sequence number the next reading gets."""
    dropped: int
    """Readings dropped because the outbox was full, since the file was created."""
    max_readings: int
    """The bound."""


class Outbox:
    """Durable FIFO of encoded readings; open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, path: Path, *, max_readings: int) -> None:
        if max_readings < 1:
            raise ValueError("max_readings must be at least 1")
        self._path = path
        self._max = max_readings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._conn: sqlite3.Connection | None = None
        self._pending = 0
        self._closed = False

    @classmethod
    async def open(cls, path: Path, *, max_readings: int) -> Outbox:
        outbox = cls(path, max_readings=max_readings)
        try:
            await outbox._run(outbox._open_sync)
        except BaseException:
            await outbox.close()
            raise
        return outbox

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        if self._conn is not None:
            await self._run(self._close_sync)
        self._closed = True
        self._executor.shutdown(wait=True)

    async def append(self, payload: bytes) -> int:
        """Store one payload durably; its sequence number."""
        (seq,) = await self.append_many([payload])
        return seq

    async def append_many(self, payloads: Sequence[bytes]) -> list[int]:
        """Store payloads in one transaction; their sequence numbers, in order."""
        if not payloads:
            return []
        seqs, dropped, total = await self._run(lambda: self._append_sync(payloads))
        if dropped:
            _LOGGER.warning(
                "outbox full (%d readings): dropped the %d oldest, %d dropped in all",
                self._max,
                dropped,
                total,
            )
        return seqs

    async def batch(self, max_n: int) -> list[OutboxEntry]:
        """The oldest ``max_n`` unacknowledged readings, oldest first."""
        rows = await self._run(
            lambda: self._db.execute(
                "SELECT seq, payload FROM readings ORDER BY seq LIMIT ?", (max_n,)
            ).fetchall()
        )
        return [OutboxEntry(seq=seq, payload=bytes(payload)) for seq, payload in rows]

    async def ack(self, acked: int | Iterable[int]) -> int:
        """Delete readings up to and including sequence ``acked``, or exactly the given set.

        Acknowledging what is already gone is harmless. Returns how many were deleted.
        """
        if isinstance(acked, int):
            sql, params = "DELETE FROM readings WHERE seq <= ?", [(acked,)]
        else:
            sql, params = "DELETE FROM readings WHERE seq = ?", [(s,) for s in set(acked)]
        return await self._run(lambda: self._delete_sync(sql, params))

    async def stats(self) -> OutboxStats:
        next_seq, dropped = await self._run(self._counters_sync)
        return OutboxStats(
            pending=self._pending, next_seq=next_seq, dropped=dropped, max_readings=self._max
        )

    # --- on the outbox thread -------------------------------------------------------------

    async def _run(self, job: Callable[[], T]) -> T:
        if self._closed:
            raise OutboxError(f"outbox {self._path} is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, job)
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox {self._path}: {exc}") from exc

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise OutboxError("outbox is closed")
        return self._conn

    def _open_sync(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._path, isolation_level=None)
        self._conn = conn
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        with _transaction(conn):
            for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                conn.execute(statement)
        (self._pending,) = conn.execute("SELECT count(*) FROM readings").fetchone()

    def _close_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _counters_sync(self) -> tuple[int, int]:
        values = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
        return values["next_seq"], values["dropped"]

    def _append_sync(self, payloads: Sequence[bytes]) -> tuple[list[int], int, int]:
        db = self._db
        with _transaction(db):
            next_seq, dropped_total = self._counters_sync()
            seqs = list(range(next_seq, next_seq + len(payloads)))
            db.executemany(
                "INSERT INTO readings (seq, payload) VALUES (?, ?)",
                zip(seqs, payloads, strict=True),
            )
            pending = self._pending + len(payloads)
            overflow = max(0, pending - self._max)
            if overflow:
                db.execute(
                    "DELETE FROM readings WHERE seq IN "
                    "(SELECT seq FROM readings ORDER BY seq LIMIT ?)",
                    (overflow,),
                )
                dropped_total += overflow
            db.executemany(
                "UPDATE counters SET value = ? WHERE name = ?",
                [(next_seq + len(payloads), "next_seq"), (dropped_total, "dropped")],
            )
            reached(CrashPoint.APPEND)
        self._pending = pending - overflow
        return seqs, overflow, dropped_total

    def _delete_sync(self, sql: str, params: list[tuple[int]]) -> int:
        db = self._db
        with _transaction(db):
            before = db.total_changes
            db.executemany(sql, params)
            deleted = db.total_changes - before
            reached(CrashPoint.DELETE)
        self._pending -= deleted
        return deleted


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT, ROLLBACK on error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class OutboxSink:
    """Stores readings and info payloads in an :class:`Outbox` (the scheduler's sink)."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def store(self, payloads: Sequence[Reading | InverterInfo]) -> None:
        await self._outbox.append_many([encode_payload(p) for p in payloads])
