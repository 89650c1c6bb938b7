"""Set look-ups and bulk inserts on both backends: the same rows whatever the set's size."""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.billing.schema import billing_idempotency
from cloud_gateway.store import Store
from cloud_gateway.store.sets import insert_rows, one_of, slices
from tunnel.clock import ManualClock

_I = billing_idempotency


def _claims(keys: list[str], clock: ManualClock, result: str = "{}") -> list[dict[str, object]]:
    return [
        {"key": k, "operation": "probe", "result": result, "created_at": clock.now()} for k in keys
    ]


async def test_insert_rows_skips_conflicts_and_returns_only_the_new_rows(
    store: Store, clock: ManualClock
) -> None:
    async with store.engine.begin() as conn:
        insert, params = insert_rows(conn, _I, _claims(["a", "b", "c"], clock))
        stmt = insert.on_conflict_do_nothing(index_elements=["key"]).returning(_I.c.key)
        first = {str(k) for (k,) in await conn.execute(stmt, params)}
        insert, params = insert_rows(conn, _I, _claims(["c", "d"], clock, result='{"x": 1}'))
        stmt = insert.on_conflict_do_nothing(index_elements=["key"]).returning(_I.c.key)
        second = {str(k) for (k,) in await conn.execute(stmt, params)}
        rows = {str(k): str(r) for k, r in await conn.execute(sa.select(_I.c.key, _I.c.result))}
    assert (first, second) == ({"a", "b", "c"}, {"d"})
    assert rows == {"a": "{}", "b": "{}", "c": "{}", "d": '{"x": 1}'}  # "c" kept its first row
    created = await _created(store)
    assert created == {clock.now()}  # aware instants survive the arrays on PostgreSQL


async def _created(store: Store) -> set[object]:
    async with store.engine.connect() as conn:
        return set((await conn.execute(sa.select(_I.c.created_at))).scalars().all())


async def test_one_of_finds_exactly_the_stored_keys_in_slices_or_one_array(
    store: Store, clock: ManualClock
) -> None:
    stored = [f"k{n:03d}" for n in range(0, 30, 3)]
    asked = {f"k{n:03d}" for n in range(25)} | {"nope"}
    async with store.engine.begin() as conn:
        await conn.execute(*insert_rows(conn, _I, _claims(stored, clock)))
        parts = list(slices(conn, asked, size=4))
        found: set[str] = set()
        for part in parts:
            rows = await conn.execute(sa.select(_I.c.key).where(one_of(conn, _I.c.key, part)))
            found.update(str(k) for (k,) in rows)
        empty = list(slices(conn, []))
    assert found == {k for k in stored if k in asked}
    assert sorted(k for part in parts for k in part) == sorted(asked)  # each asked once
    expected_parts = 1 if store.engine.dialect.name == "postgresql" else 7
    assert len(parts) == expected_parts
    assert empty == []
