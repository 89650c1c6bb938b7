"""Devices repository: CCU hubs and inverter agents known to the gateway."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.devices.schema import devices
from cloud_gateway.errors import ConflictError, NotFoundError
from cloud_gateway.store.repository import Repository

__all__ = ["DeviceRepository", "device_columns", "device_from"]


def device_columns(prefix: str = "") -> list[sa.Label[object]]:
    """The device table's columns, labelled ``prefix + name`` (for a join another area reads
    a device with, e.g. the tunnel endpoint's certificate look-up)."""
    return [column.label(prefix + column.name) for column in devices.c]


def device_from(m: sa.RowMapping, prefix: str = "") -> Device:
    """The device in a row of :func:`device_columns` (or of the device table: no prefix)."""
    return Device(
        id=m[prefix + "id"],
        slug=m[prefix + "slug"],
        kind=DeviceKind(m[prefix + "kind"]),
        name=m[prefix + "name"],
        account_id=m[prefix + "account_id"],
        disabled=bool(m[prefix + "disabled"]),
        created_at=m[prefix + "created_at"],
    )


def _device(row: sa.Row[tuple[object, ...]]) -> Device:
    return device_from(row._mapping)


class DeviceRepository(Repository):
    """Create, read and change devices."""

    async def create(
        self,
        *,
        slug: str,
        kind: DeviceKind,
        created_at: datetime,
        name: str = "",
        account_id: int | None = None,
    ) -> Device:
        """Insert a device; the slug is its unique host label."""
        try:
            async with self._db.begin() as conn:
                result = await conn.execute(
                    devices.insert()
                    .values(
                        slug=slug,
                        kind=kind.value,
                        name=name,
                        account_id=account_id,
                        created_at=created_at,
                    )
                    .returning(*devices.c)
                )
                return _device(result.one())
        except IntegrityError as exc:
            raise ConflictError(f"device {slug!r} exists or its account does not") from exc

    async def get_by_slug(self, slug: str) -> Device:
        """The device with this slug."""
        async with self._db.connect() as conn:
            row = (await conn.execute(devices.select().where(devices.c.slug == slug))).first()
        if row is None:
            raise NotFoundError(f"no device {slug!r}")
        return _device(row)

    async def owner(self, device_id: int) -> int | None:
        """The account a device belongs to (``None``: unknown device or not claimed)."""
        async with self._db.connect() as conn:
            owner = await conn.scalar(
                sa.select(devices.c.account_id).where(devices.c.id == device_id)
            )
        return owner if isinstance(owner, int) else None

    async def list_for_account(self, account_id: int) -> list[Device]:
        """The account's devices, oldest first."""
        async with self._db.connect() as conn:
            rows = await conn.execute(
                devices.select().where(devices.c.account_id == account_id).order_by(devices.c.id)
            )
            return [_device(r) for r in rows]

    async def set_disabled(self, slug: str, *, disabled: bool) -> None:
        """Disable (or re-enable) a device; a disabled device is refused at the tunnel."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                devices.update().where(devices.c.slug == slug).values(disabled=disabled)
            )
        if result.rowcount == 0:
            raise NotFoundError(f"no device {slug!r}")
