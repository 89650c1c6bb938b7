"""Device and account search for the console (read-only over the accounts and devices tables)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.schema import accounts
from cloud_gateway.devices.schema import devices
from cloud_gateway.store.repository import Repository

__all__ = ["AccountHit", "ConsoleSearchRepository", "DeviceHit"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceHit:
    """A device as the console lists it, with its owner's name."""

    id: int
    slug: str
    kind: str
    name: str
    account_id: int | None
    owner: str
    disabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountHit:
    """An account as the console lists it, with how many devices it owns."""

    id: int
    username: str
    email: str
    role: Role
    created_at: datetime
    devices: int


def _like(text: str) -> str:
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _containing(
    query: sa.Select[Any], text: str, *columns: sa.ColumnElement[str]
) -> sa.Select[Any]:
    """``query`` narrowed to rows where one of ``columns`` contains ``text`` (any case)."""
    if not text.strip():
        return query
    pattern = _like(text)
    return query.where(sa.or_(*(sa.func.lower(c).like(pattern, escape="\\") for c in columns)))


def _with_owner() -> sa.Select[Any]:
    """Device rows with their owner's user name (``owner``, empty without owner)."""
    return sa.select(devices, sa.func.coalesce(accounts.c.username, "").label("owner")).select_from(
        devices.outerjoin(accounts, accounts.c.id == devices.c.account_id)
    )


def _device_hit(m: sa.RowMapping) -> DeviceHit:
    return DeviceHit(
        id=m["id"],
        slug=m["slug"],
        kind=m["kind"],
        name=m["name"],
        account_id=m["account_id"],
        owner=m["owner"],
        disabled=bool(m["disabled"]),
        created_at=m["created_at"],
    )


class ConsoleSearchRepository(Repository):
    """Case-insensitive substring search over devices and accounts."""

    async def devices(self, text: str, limit: int = 50) -> list[DeviceHit]:
        """Devices whose slug, name or owner (name or e-mail) contains ``text``."""
        query = _with_owner().order_by(devices.c.slug).limit(limit)
        query = _containing(
            query, text, devices.c.slug, devices.c.name, accounts.c.username, accounts.c.email
        )
        async with self._db.connect() as conn:
            return [_device_hit(r._mapping) for r in await conn.execute(query)]

    async def devices_by_id(self, ids: Iterable[int]) -> dict[int, DeviceHit]:
        """The devices with these ids, by id (unknown ids are left out)."""
        wanted = sorted(set(ids))
        found: dict[int, DeviceHit] = {}
        async with self._db.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                query = _with_owner().where(devices.c.id.in_(chunk))
                found |= {r.id: _device_hit(r._mapping) for r in await conn.execute(query)}
        return found

    async def accounts(
        self, text: str, limit: int = 50, roles: frozenset[Role] | None = None
    ) -> list[AccountHit]:
        """Accounts whose user name or e-mail contains ``text`` (of ``roles``, if given)."""
        owned = (
            sa.select(sa.func.count())
            .where(devices.c.account_id == accounts.c.id)
            .scalar_subquery()
            .label("devices")
        )
        query = sa.select(accounts, owned).order_by(accounts.c.username).limit(limit)
        if roles is not None:
            query = query.where(accounts.c.role.in_(sorted(r.value for r in roles)))
        query = _containing(query, text, accounts.c.username, accounts.c.email)
        async with self._db.connect() as conn:
            rows = await conn.execute(query)
        return [
            AccountHit(
                id=m["id"],
                username=m["username"],
                email=m["email"],
                role=Role(m["role"]),
                created_at=m["created_at"],
                devices=int(m["devices"]),
            )
            for m in (r._mapping for r in rows)
        ]

    async def staff(self) -> list[AccountHit]:
        """Operator and accountant accounts."""
        return await self.accounts(
            "", limit=1000, roles=frozenset({Role.OPERATOR, Role.ACCOUNTANT})
        )
