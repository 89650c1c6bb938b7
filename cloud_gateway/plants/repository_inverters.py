"""Inverters repository: registration, list, edit, swap, delete; wrong activation codes.

Every call names the owning account; an inverter of another account's plant is "not found".
A serial is registered at most once across the gateway (``ConflictError`` otherwise).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.errors import ConflictError, NotFoundError
from cloud_gateway.plants.model import Inverter
from cloud_gateway.plants.schema import activation_failures, inverter_nameplates, inverters, plants
from cloud_gateway.store.repository import Repository

__all__ = ["InverterRepository"]

_N = inverter_nameplates
_SELECT = (
    sa.select(
        *inverters.c,
        _N.c.w_rating,
        sa.func.coalesce(_N.c.manufacturer, "").label("manufacturer"),
        sa.func.coalesce(_N.c.model, "").label("model"),
    )
    .select_from(
        inverters.join(plants, plants.c.id == inverters.c.plant_id).outerjoin(
            _N, sa.and_(_N.c.account_id == plants.c.account_id, _N.c.serial == inverters.c.serial)
        )
    )
    .order_by(inverters.c.id)
)


def _inverter(m: RowMapping) -> Inverter:
    return Inverter(
        id=m["id"],
        plant_id=m["plant_id"],
        serial=m["serial"],
        name=m["name"],
        activated_at=m["activated_at"],
        nominal_power_w=m["w_rating"],
        manufacturer=m["manufacturer"],
        model=m["model"],
    )


async def _owned_plant(conn: AsyncConnection, plant_id: int, account_id: int) -> None:
    found = await conn.scalar(
        sa.select(plants.c.id).where(plants.c.id == plant_id, plants.c.account_id == account_id)
    )
    if found is None:
        raise NotFoundError(f"no plant {plant_id}")


class InverterRepository(Repository):
    """An account's inverters."""

    async def add(
        self, *, plant_id: int, account_id: int, serial: str, name: str, now: datetime
    ) -> Inverter:
        """Register ``serial`` in the plant; the plant's trial starts with its first inverter."""
        try:
            async with self._db.begin() as conn:
                await _owned_plant(conn, plant_id, account_id)
                new_id = (
                    await conn.execute(
                        inverters.insert()
                        .values(plant_id=plant_id, serial=serial, name=name, activated_at=now)
                        .returning(inverters.c.id)
                    )
                ).scalar_one()
                await conn.execute(
                    plants.update()
                    .where(plants.c.id == plant_id, plants.c.trial_started_at.is_(None))
                    .values(trial_started_at=now)
                )
        except IntegrityError as exc:
            raise ConflictError(f"inverter {serial!r} is already registered") from exc
        return await self.get(new_id, account_id)

    async def get(self, inverter_id: int, account_id: int | None) -> Inverter:
        """One inverter of the account (of any account when None: the web layer then decides
        with ``can`` on its plant)."""
        query = _SELECT.where(inverters.c.id == inverter_id)
        if account_id is not None:
            query = query.where(plants.c.account_id == account_id)
        async with self._db.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFoundError(f"no inverter {inverter_id}")
        return _inverter(row._mapping)

    async def list_for_plant(self, plant_id: int, account_id: int) -> list[Inverter]:
        """The plant's inverters in the order they were added."""
        async with self._db.connect() as conn:
            await _owned_plant(conn, plant_id, account_id)
            rows = await conn.execute(_SELECT.where(inverters.c.plant_id == plant_id))
            return [_inverter(r._mapping) for r in rows]

    async def serial_registered(self, serial: str) -> bool:
        """Whether any plant holds ``serial``."""
        async with self._db.connect() as conn:
            found = await conn.scalar(sa.select(inverters.c.id).where(inverters.c.serial == serial))
        return found is not None

    async def _change(self, inverter_id: int, account_id: int, **values: object) -> Inverter:
        owned = sa.select(plants.c.id).where(plants.c.account_id == account_id)
        try:
            async with self._db.begin() as conn:
                result = await conn.execute(
                    inverters.update()
                    .where(inverters.c.id == inverter_id, inverters.c.plant_id.in_(owned))
                    .values(**values)
                )
        except IntegrityError as exc:
            raise ConflictError(f"inverter {values.get('serial')!r} is already registered") from exc
        if result.rowcount == 0:
            raise NotFoundError(f"no inverter {inverter_id}")
        return await self.get(inverter_id, account_id)

    async def rename(self, inverter_id: int, account_id: int, name: str) -> Inverter:
        """Change the inverter's display name."""
        return await self._change(inverter_id, account_id, name=name)

    async def swap(
        self, inverter_id: int, account_id: int, new_serial: str, now: datetime
    ) -> Inverter:
        """Put another inverter into this slot: same id, plant and history, new serial."""
        return await self._change(inverter_id, account_id, serial=new_serial, activated_at=now)

    async def delete(self, inverter_id: int, account_id: int) -> None:
        """Remove the inverter and its readings."""
        owned = sa.select(plants.c.id).where(plants.c.account_id == account_id)
        async with self._db.begin() as conn:
            result = await conn.execute(
                inverters.delete().where(
                    inverters.c.id == inverter_id, inverters.c.plant_id.in_(owned)
                )
            )
        if result.rowcount == 0:
            raise NotFoundError(f"no inverter {inverter_id}")

    async def record_activation_failure(
        self, account_id: int, at: datetime, *, source_address: str
    ) -> None:
        """Remember one wrong activation code of the account, typed from ``source_address``."""
        async with self._db.begin() as conn:
            await conn.execute(
                activation_failures.insert().values(
                    account_id=account_id, at=at, source_address=source_address[:64]
                )
            )

    async def activation_failures_since(
        self, account_id: int, source_address: str, since: datetime
    ) -> tuple[list[datetime], list[datetime]]:
        """Instants of wrong codes after ``since``: the account's (from any address) and the
        source address's (by any account). Older ones of both are pruned."""
        source = source_address[:64]
        af = activation_failures
        async with self._db.begin() as conn:
            await conn.execute(af.delete().where(af.c.account_id == account_id, af.c.at <= since))
            await conn.execute(af.delete().where(af.c.source_address == source, af.c.at <= since))
            by_account = await conn.execute(sa.select(af.c.at).where(af.c.account_id == account_id))
            by_source = await conn.execute(sa.select(af.c.at).where(af.c.source_address == source))
            return [r.at for r in by_account], [r.at for r in by_source]
