"""Rows of the service contracts: service numbers and sites, SEPA refund files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.contracts.provider import Site
from cloud_gateway.contracts.schema import service_contracts, service_refunds
from cloud_gateway.errors import NotFoundError, StateError
from cloud_gateway.store.repository import Repository
from cloud_gateway.store.upsert import insert_ignore

__all__ = ["ServiceContractRepository", "StoredRefund", "StoredService"]

_S, _R = service_contracts, service_refunds


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredService:
    """What the service contract adds to the money core's contract."""

    contract_id: int
    service_number: str
    provider: str
    site: Site
    plant_id: int | None
    precheck_reference: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRefund:
    """A SEPA credit transfer (pain.001) paying credit back to a customer."""

    id: int
    account_id: int
    amount: int
    iban: str
    holder: str
    pain001: str
    created_at: datetime


def _service(m: sa.RowMapping) -> StoredService:
    return StoredService(
        contract_id=m["contract_id"],
        service_number=m["service_number"],
        provider=m["provider"],
        site=Site(latitude=Decimal(m["latitude"]), longitude=Decimal(m["longitude"])),
        plant_id=m["plant_id"],
        precheck_reference=m["precheck_reference"],
        created_at=m["created_at"],
    )


def _refund(m: sa.RowMapping) -> StoredRefund:
    return StoredRefund(
        id=m["id"],
        account_id=m["account_id"],
        amount=m["amount"],
        iban=m["iban"],
        holder=m["holder"],
        pain001=m["pain001"],
        created_at=m["created_at"],
    )


class ServiceContractRepository(Repository):
    """The ``service_contracts`` and ``service_refunds`` tables."""

    async def add_service(
        self,
        conn: AsyncConnection,
        *,
        contract_id: int,
        service_number: str,
        provider: str,
        site: Site,
        plant_id: int | None,
        precheck_reference: str,
        order_key: str,
        now: datetime,
    ) -> StoredService:
        """Record the accepted service once (a retry returns the first row)."""
        values = {
            "contract_id": contract_id,
            "service_number": service_number,
            "provider": provider,
            "latitude": str(site.latitude),
            "longitude": str(site.longitude),
            "plant_id": plant_id,
            "precheck_reference": precheck_reference[:64],
            "order_key": order_key,
            "created_at": now,
        }
        await insert_ignore(conn, _S, values, ["contract_id"])
        found = await self.service(conn, contract_id)
        if found is None:
            raise StateError(f"service of contract {contract_id} vanished")
        return found

    async def service(self, conn: AsyncConnection, contract_id: int) -> StoredService | None:
        row = (await conn.execute(_S.select().where(_S.c.contract_id == contract_id))).first()
        return _service(row._mapping) if row else None

    async def ordered_with(self, conn: AsyncConnection, order_key: str) -> StoredService | None:
        """The service an order with this idempotency key was accepted for, if any."""
        row = (await conn.execute(_S.select().where(_S.c.order_key == order_key))).first()
        return _service(row._mapping) if row else None

    async def services(
        self, conn: AsyncConnection, contract_ids: list[int]
    ) -> dict[int, StoredService]:
        if not contract_ids:
            return {}
        rows = await conn.execute(_S.select().where(_S.c.contract_id.in_(contract_ids)))
        return {r.contract_id: _service(r._mapping) for r in rows}

    async def add_refund(
        self,
        conn: AsyncConnection,
        *,
        key: str,
        account_id: int,
        amount: int,
        iban: str,
        holder: str,
        pain001: str,
        now: datetime,
    ) -> StoredRefund:
        """Keep a refund's file once per idempotency key (a retry returns the first file)."""
        values = {
            "idempotency_key": key,
            "account_id": account_id,
            "amount": amount,
            "iban": iban,
            "holder": holder,
            "pain001": pain001,
            "created_at": now,
        }
        await insert_ignore(conn, _R, values, ["idempotency_key"])
        found = await self.refund(conn, key)
        if found is None:
            raise StateError(f"refund {key!r} vanished")
        return found

    async def refund(self, conn: AsyncConnection, key: str) -> StoredRefund | None:
        """The refund made under ``key``, if any."""
        row = (await conn.execute(_R.select().where(_R.c.idempotency_key == key))).first()
        return None if row is None else _refund(row._mapping)

    async def refund_made_with(self, key: str) -> StoredRefund | None:
        """The refund made under ``key``, if any, in a connection of its own."""
        async with self._db.connect() as conn:
            return await self.refund(conn, key)

    async def refund_files(self, *, limit: int = 50) -> list[StoredRefund]:
        """The latest refunds with their files, newest first (the console lists them)."""
        stmt = _R.select().order_by(_R.c.id.desc()).limit(limit)
        async with self._db.connect() as conn:
            return [_refund(r._mapping) for r in await conn.execute(stmt)]

    async def refund_file(self, refund_id: int) -> StoredRefund:
        """One refund with its file; :class:`NotFoundError` when there is none."""
        async with self._db.connect() as conn:
            row = (await conn.execute(_R.select().where(_R.c.id == refund_id))).first()
        if row is None:
            raise NotFoundError(f"no refund {refund_id}")
        return _refund(row._mapping)
