"""Plants repository. Every call names the tenant: another account's plant is "not found"."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.errors import ConflictError, NotFoundError
from cloud_gateway.plants.model import PLANT_FIELDS, Plant, PlantFields
from cloud_gateway.plants.schema import plants
from cloud_gateway.store.repository import Repository

__all__ = ["PlantRepository", "plant_from_row", "plants_by_id"]


def _columns(fields: PlantFields) -> dict[str, Any]:
    return {spec.column: spec.to_column(getattr(fields, spec.name)) for spec in PLANT_FIELDS}


def plant_from_row(m: RowMapping) -> Plant:
    """A :class:`Plant` from a ``plants`` row."""
    values = {spec.name: spec.from_column(m[spec.column]) for spec in PLANT_FIELDS}
    fields = PlantFields(**values)  # type: ignore[arg-type]
    return Plant(
        id=m["id"],
        account_id=m["account_id"],
        fields=fields,
        trial_started_at=m["trial_started_at"],
        created_at=m["created_at"],
    )


async def plants_by_id(conn: AsyncConnection, plant_ids: Iterable[int]) -> dict[int, Plant]:
    """The plants with these ids, on an open connection (used inside the ingest transaction)."""
    ids = sorted(set(plant_ids))
    if not ids:
        return {}
    rows = await conn.execute(plants.select().where(plants.c.id.in_(ids)))
    return {p.id: p for p in (plant_from_row(r._mapping) for r in rows)}


class PlantRepository(Repository):
    """Create, read, change and delete an account's plants."""

    async def create(self, account_id: int, fields: PlantFields, now: datetime) -> Plant:
        """A new plant of ``account_id``."""
        try:
            async with self._db.begin() as conn:
                result = await conn.execute(
                    plants.insert()
                    .values(account_id=account_id, created_at=now, **_columns(fields))
                    .returning(*plants.c)
                )
                return plant_from_row(result.one()._mapping)
        except IntegrityError as exc:
            raise ConflictError(f"account {account_id} does not exist") from exc

    async def get(self, plant_id: int, account_id: int | None) -> Plant:
        """The plant, if it belongs to ``account_id`` (any owner's when None: the web layer
        then decides with ``can`` who may see it)."""
        query = plants.select().where(plants.c.id == plant_id)
        if account_id is not None:
            query = query.where(plants.c.account_id == account_id)
        async with self._db.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFoundError(f"no plant {plant_id}")
        return plant_from_row(row._mapping)

    async def list_for_account(self, account_id: int) -> list[Plant]:
        """The account's plants, oldest first."""
        async with self._db.connect() as conn:
            rows = await conn.execute(
                plants.select().where(plants.c.account_id == account_id).order_by(plants.c.id)
            )
            return [plant_from_row(r._mapping) for r in rows]

    async def update(self, plant_id: int, account_id: int, fields: PlantFields) -> Plant:
        """Replace the owner-entered fields."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                plants.update()
                .where(plants.c.id == plant_id, plants.c.account_id == account_id)
                .values(**_columns(fields))
                .returning(*plants.c)
            )
            row = result.first()
        if row is None:
            raise NotFoundError(f"no plant {plant_id}")
        return plant_from_row(row._mapping)

    async def delete(self, plant_id: int, account_id: int) -> None:
        """Delete the plant with its inverters and their readings."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                plants.delete().where(plants.c.id == plant_id, plants.c.account_id == account_id)
            )
        if result.rowcount == 0:
            raise NotFoundError(f"no plant {plant_id}")
