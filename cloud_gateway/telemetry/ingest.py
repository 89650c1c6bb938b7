"""TELEMETRY ingest: commit first, then the caller ACKs; dedup on (device, sequence).

:meth:`TelemetryIngest.ingest` is the tunnel's ``on_telemetry`` callback for one device: it
returns only after the payload is durably committed (or was committed before: a resent batch
stores nothing and still returns, so the device gets its ACK again). Calls from many sessions
are grouped: whatever arrives while a transaction is running is written by the next one, so
one commit serves many frames (group commit) and the database sees few, large transactions.

In the same transaction, one bulk statement each (``cloud_gateway/telemetry/repository.py``):
the dedup keys (``ON CONFLICT DO NOTHING RETURNING`` tells which were new), the readings of
the new payloads, the day counters (energy today: folded here per group, merged with the
stored ones by the database, which returns the result) and, for plants whose data may be
served, one MQTT state message per inverter into the outbox. After the commit ``on_commit``
wakes the outbox publisher and ``reading_listeners`` are told which inverters (and plants)
reported (the alert service, which evaluates a plant at once when one of its silent inverters
speaks again).

Two caches, both only shortcuts: plant access decisions (``access_ttl_s``) and registered
inverters found by (account, serial) (``target_ttl_s``; misses are always looked up, so a new
registration counts at once). A cached inverter deleted meanwhile makes the insert violate the
readings' foreign key; the group is then retried with fresh lookups. When the database refuses
a group's data for another reason, the group is split until only the offending payload fails.

A payload that is not version 1 JSON can never succeed: its key is recorded as rejected and
the call returns normally (the device drops it instead of resending it forever).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter

import orjson

from cloud_gateway.devices.model import Device
from cloud_gateway.errors import StateError
from cloud_gateway.plants.access import PlantAccess, PlantAccessPolicy
from cloud_gateway.plants.day_energy import DayFold, LocalDays
from cloud_gateway.store import Store
from cloud_gateway.telemetry.payload import ParsedPayload, PayloadError, ReadingIn, parse_payload
from cloud_gateway.telemetry.repository import (
    IngestTransaction,
    ReadingRow,
    RefusedGroupError,
    Target,
    TelemetryRepository,
)
from cloud_gateway.telemetry.topics import StateMessages
from tunnel.clock import Clock

__all__ = ["IngestResult", "TelemetryIngest"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What became of one TELEMETRY payload."""

    stored: int
    """Readings stored."""
    duplicate: bool = False
    """The (device, sequence) key was taken before; nothing was stored."""
    rejected: bool = False
    """The payload was unusable; its key is recorded so a resend is a duplicate."""


@dataclass(slots=True)
class _Pending:
    device: Device
    seq: int
    parsed: ParsedPayload | None
    future: asyncio.Future[IngestResult] = field(repr=False)

    @property
    def size(self) -> int:
        return 1 if self.parsed is None else 1 + len(self.parsed.readings)


_TARGET_CACHE = 200_000
_DUPLICATE = IngestResult(0, duplicate=True)
_REJECTED = IngestResult(0, rejected=True)


class TelemetryIngest:
    """Stores TELEMETRY payloads of inverter agents."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        access: PlantAccessPolicy,
        topic_prefix: str | None,
        on_commit: Callable[[], None] | None = None,
        max_group: int = 20_000,
        access_ttl_s: float = 30.0,
        target_ttl_s: float = 10.0,
    ) -> None:
        self._telemetry = store.repo(TelemetryRepository)
        self._clock = clock
        self._access = access
        self._on_commit = on_commit
        self._max_group = max_group
        self._access_ttl = access_ttl_s
        self._access_cache: dict[int, tuple[float, PlantAccess]] = {}
        self._queue: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self._days = LocalDays()
        self._states = StateMessages(topic_prefix) if topic_prefix is not None else None
        self._target_ttl = target_ttl_s
        self._target_cache: dict[tuple[int, str], tuple[float, Target]] = {}
        self.nameplate_listeners: list[Callable[[int, list[str]], Awaitable[object]]] = []
        """Told (account id, serials) after a commit that stored inverters' nameplates: a
        corrected configuration may change a plant's licensed power (R-MON-14)."""
        self._nameplates: list[tuple[int, list[str]]] = []
        self.reading_listeners: list[Callable[[Mapping[int, int]], None]] = []
        """Told (synchronously, so they must be cheap) the inverters a commit stored readings
        of (inverter id -> plant id): the alert service evaluates on ingest (R-MON-17)."""
        self._seen: dict[int, int] = {}
        self._events: dict[int, tuple[datetime, int]] = {}
        """Per inverter the instant and SunSpec event bits the stored event history ends with
        (a cache; a miss is read)."""
        self._events_after: dict[int, tuple[datetime, int]] = {}
        self._listening: set[asyncio.Task[None]] = set()

    def handler_for(self, device: Device) -> Callable[[int, bytes], Awaitable[None]]:
        """The ``on_telemetry(seq, payload)`` callback for a tunnel session of ``device``."""

        async def on_telemetry(seq: int, payload: bytes) -> None:
            await self.ingest(device, seq, payload)

        return on_telemetry

    async def ingest(self, device: Device, seq: int, payload: bytes) -> IngestResult:
        """Store one payload; returns after its commit. Raises ``StoreError`` if none happened."""
        try:
            parsed: ParsedPayload | None = parse_payload(payload)
        except PayloadError as exc:
            _LOGGER.warning("telemetry %s/%d rejected: %s", device.slug, seq, exc)
            parsed = None
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(device, seq, parsed, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="telemetry-writer")
        return await future

    async def close(self) -> None:
        """Wait for the writes in progress and the listeners they told."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._listening:
            await asyncio.gather(*self._listening, return_exceptions=True)

    async def _drain(self) -> None:
        while self._queue:
            # Let the callers woken by the last commit queue their next payload first, so the
            # next transaction carries as many as possible (one loop turn, not a timed wait).
            await asyncio.sleep(0)
            size, count = 0, 0
            for pending in self._queue:
                if count and size + pending.size > self._max_group:
                    break
                size += pending.size
                count += 1
            group, self._queue = self._queue[:count], self._queue[count:]
            try:
                await self._commit(group)
            except asyncio.CancelledError:
                for p in group + self._queue:
                    p.future.cancel()
                raise

    async def _commit(self, group: list[_Pending], *, fresh_targets: bool = False) -> None:
        """Write ``group`` in one transaction and resolve its callers.

        When the database refuses the group's data, a cached inverter may be gone: the group is
        retried once with fresh lookups. If it is still refused (say, a device deleted while
        connected), the halves are tried on their own, so only the offending payload fails,
        not the frames of every other agent that happened to share its transaction.
        """
        try:
            results, published = await self._write(group)
        except RefusedGroupError as exc:
            if not fresh_targets and self._target_cache:
                self._target_cache.clear()
                await self._commit(group, fresh_targets=True)
            elif len(group) > 1:
                half = len(group) // 2
                await self._commit(group[:half], fresh_targets=True)
                await self._commit(group[half:], fresh_targets=True)
            else:
                self._fail(group, exc)
            return
        except Exception as exc:  # noqa: BLE001 - every failure must reach the waiting callers
            self._fail(group, exc)
            return
        for p, result in zip(group, results, strict=True):
            if not p.future.done():
                p.future.set_result(result)
        if published and self._on_commit is not None:
            self._on_commit()
        stored, self._seen = self._seen, {}
        if stored:
            for listener in self.reading_listeners:
                try:
                    listener(stored)
                except Exception:  # a listener must not disturb the ingest
                    _LOGGER.exception("reading listener failed")
        seen, self._nameplates = self._nameplates, []
        if seen and self.nameplate_listeners:
            task = asyncio.create_task(self._tell(seen), name="nameplate listeners")
            self._listening.add(task)
            task.add_done_callback(self._listening.discard)

    async def _tell(self, seen: list[tuple[int, list[str]]]) -> None:
        for account, serials in seen:
            for listener in self.nameplate_listeners:
                try:
                    await listener(account, serials)
                except Exception:  # a listener must not disturb the ingest
                    _LOGGER.exception("nameplate listener failed for account %d", account)

    @staticmethod
    def _fail(group: list[_Pending], exc: Exception) -> None:
        for p in group:
            if not p.future.done():
                p.future.set_exception(exc)

    async def _write(self, group: list[_Pending]) -> tuple[list[IngestResult], bool]:
        now = self._clock.now()
        self._nameplates = []  # only what this transaction stores counts
        self._seen = {}
        self._events_after = {}
        # A key repeated inside the group (a resend racing its original): the first one counts.
        first: dict[tuple[int, int], _Pending] = {}
        for p in group:
            first.setdefault((p.device.id, p.seq), p)
        async with self._telemetry.transaction() as tx:
            taken = await tx.take_keys(
                [(d, s, p.parsed is None) for (d, s), p in first.items()], now
            )
            fresh = [p for key, p in first.items() if key in taken]
            published = await self._store_readings(tx, fresh, now)
        if self._events_after:  # committed: the cache follows the stored bits
            if len(self._events) > _TARGET_CACHE:
                self._events.clear()
            self._events.update(self._events_after)
        results: list[IngestResult] = []
        for p in group:
            key = (p.device.id, p.seq)
            if key not in taken or first[key] is not p:
                results.append(_DUPLICATE)
            elif p.parsed is None:
                results.append(_REJECTED)
            else:
                results.append(IngestResult(len(p.parsed.readings)))
        return results, published

    async def _store_readings(
        self, tx: IngestTransaction, fresh: list[_Pending], now: datetime
    ) -> bool:
        usable = [(p.device, p.parsed) for p in fresh if p.parsed is not None]
        targets = await self._targets(
            tx,
            {
                (d.account_id, r.serial)
                for d, parsed in usable
                if d.account_id is not None
                for r in parsed.readings
            },
        )
        day_of = self._days
        rows: list[ReadingRow] = []
        # (inverter, serial, day) -> the day's first and last counter of this batch
        days: dict[tuple[int, str, date], DayFold] = {}
        latest: dict[int, tuple[ReadingIn, Target]] = {}
        # every reading's event bits, per inverter: a bit raised and cleared inside a backlog
        # counts with both instants, not only the newest reading's bits
        flagged: dict[int, list[tuple[datetime, int]]] = {}
        for device, parsed in usable:
            account, device_id = device.account_id, device.id
            if parsed.infos and account is not None:
                await tx.save_nameplates(account, parsed.infos, now)
                self._nameplates.append((account, [i.serial for i in parsed.infos]))
            for r in parsed.readings:
                at, wh = r.at, r.energy_wh
                target = None if account is None else targets.get((account, r.serial))
                if target is None:
                    rows.append(
                        (None, device_id, r.serial, at, r.power_w, wh, r.dc_power_w, r.state)
                    )
                    continue
                inverter_id = target.inverter_id
                rows.append(
                    (inverter_id, device_id, r.serial, at, r.power_w, wh, r.dc_power_w, r.state)
                )
                if wh is not None:
                    key = (inverter_id, r.serial, day_of(at))
                    acc = days.get(key)
                    if acc is None:
                        days[key] = DayFold(at, wh, r.power_w)
                    else:
                        acc.add(at, wh, r.power_w)
                newest = latest.get(inverter_id)
                if newest is None or at >= newest[0].at:
                    latest[inverter_id] = (r, target)
                live = r.live
                if live is not None and live.events is not None:
                    flagged.setdefault(inverter_id, []).append((at, live.events))
        await tx.insert_readings(rows)
        merged = await tx.merge_days([(*key, *acc.row()) for key, acc in days.items()])
        if self.reading_listeners:
            self._seen = {inverter_id: t.plant_id for inverter_id, (_r, t) in latest.items()}
        details = [(inv, r) for inv, (r, _t) in latest.items() if r.live is not None]
        if details or flagged:
            await self._save_live(tx, details, flagged)
        if self._states is None or not latest:
            return False
        messages = await self._messages(tx, latest, merged, now)
        await tx.enqueue(messages, now)
        return bool(messages)

    async def _save_live(
        self,
        tx: IngestTransaction,
        details: list[tuple[int, ReadingIn]],
        flagged: Mapping[int, list[tuple[datetime, int]]],
    ) -> None:
        """Store each inverter's newest details and its SunSpec event history.

        ``flagged`` holds every reading's event bits per inverter; they are taken in time
        order from where the stored history ends (known after the commit: ``_events``; a miss
        is read), so a bit raised and cleared between two uploads, or inside one backlog, is
        recorded at both instants. A reading not newer than that end (a late straggler) cannot
        be placed in the history any more and changes nothing.
        """
        known = self._events
        unknown = [inv for inv in flagged if inv not in known]
        before = await tx.live_events(unknown) if unknown else {}
        events: list[tuple[int, datetime, int, bool]] = []
        after: dict[int, tuple[datetime, int]] = {}
        for inverter_id, readings in flagged.items():
            last = known.get(inverter_id) or before.get(inverter_id)
            if len(readings) > 1:
                readings.sort(key=itemgetter(0))
            end, state = last if last is not None else (None, 0)
            for at, bits in readings:
                if end is not None and at <= end:
                    continue
                changed = bits ^ state
                code = 0
                while changed >> code:
                    if changed >> code & 1:
                        events.append((inverter_id, at, code, bool(bits >> code & 1)))
                    code += 1
                end, state = at, bits
            if end is not None:
                after[inverter_id] = (end, state)
        # every detail is a finite number or None (checked when parsed): plain JSON
        rows = [
            (inv, r.at, r.live.events, orjson.dumps(r.live.as_json()).decode())
            for inv, r in details
            if r.live is not None
        ]
        await tx.save_live(rows, events)
        self._events_after.update(after)

    async def _targets(
        self, tx: IngestTransaction, pairs: set[tuple[int, str]]
    ) -> dict[tuple[int, str], Target]:
        """Registered inverters by (account, serial); found ones are cached for ``target_ttl_s``.

        Only hits are cached, so a newly registered serial counts at once. A cached inverter
        that was deleted makes the group's insert violate the readings' foreign key: the
        cache is cleared and the group retried (see ``_commit``). A swap is seen within the TTL.
        """
        now = self._clock.monotonic()
        found: dict[tuple[int, str], Target] = {}
        missing: list[tuple[int, str]] = []
        cache = self._target_cache
        for pair in pairs:
            cached = cache.get(pair)
            if cached is not None and cached[0] > now:
                found[pair] = cached[1]
            else:
                missing.append(pair)
        if missing:
            fresh = await tx.targets(missing)
            if len(cache) + len(fresh) > _TARGET_CACHE:
                cache.clear()
            expires = now + self._target_ttl
            for pair, target in fresh.items():
                cache[pair] = (expires, target)
            found.update(fresh)
        return found

    async def _messages(
        self,
        tx: IngestTransaction,
        latest: dict[int, tuple[ReadingIn, Target]],
        days: dict[tuple[int, str, date], float],
        now: datetime,
    ) -> list[tuple[str, bytes]]:
        states = self._states
        if states is None:
            raise StateError("ingest has no device state table")
        plant_ids = {t.plant_id for _r, t in latest.values()}
        allowed = await self._allowed(tx, plant_ids, now)
        day_of = self._days
        messages: list[tuple[str, bytes]] = []
        for inverter_id, (r, target) in sorted(latest.items()):
            if target.plant_id not in allowed:
                continue
            messages.append(
                states.message(
                    plant_id=target.plant_id,
                    inverter_id=inverter_id,
                    serial=r.serial,
                    at=r.at,
                    power_w=r.power_w,
                    dc_power_w=r.dc_power_w,
                    energy_total_wh=r.energy_wh,
                    energy_today_wh=days.get((inverter_id, r.serial, day_of(r.at))),
                    state=r.state,
                )
            )
        return messages

    async def _allowed(self, tx: IngestTransaction, plant_ids: set[int], now: datetime) -> set[int]:
        """Plants whose data may be fanned out (decisions cached for ``access_ttl_s``)."""
        clock_now = self._clock.monotonic()
        answers: dict[int, PlantAccess] = {}
        missing: set[int] = set()
        for plant_id in plant_ids:
            cached = self._access_cache.get(plant_id)
            if cached is not None and cached[0] > clock_now:
                answers[plant_id] = cached[1]
            else:
                missing.add(plant_id)
        for plant in (await tx.plants(missing)).values():
            answer = await self._access.decide(plant, now)
            self._access_cache[plant.id] = (clock_now + self._access_ttl, answer)
            answers[plant.id] = answer
        return {pid for pid, a in answers.items() if a.entitled}
