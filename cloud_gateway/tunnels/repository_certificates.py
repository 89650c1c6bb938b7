"""Device certificates repository: what was issued to whom, and what is revoked.

The tunnel endpoint looks the presented client certificate up by serial number; a
certificate that is unknown or revoked is refused even though its chain verifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import device_columns, device_from
from cloud_gateway.devices.schema import devices
from cloud_gateway.store.repository import Repository
from cloud_gateway.tunnels.schema import device_certificates

__all__ = ["DeviceCertificate", "DeviceCertificateRepository"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceCertificate:
    """One issued device certificate."""

    serial: str
    device_id: int
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    revoked_at: datetime | None
    revoke_reason: str
    device_slug: str

    @property
    def revoked(self) -> bool:
        """Whether an operator revoked it."""
        return self.revoked_at is not None


def _certificate(m: sa.RowMapping) -> DeviceCertificate:
    return DeviceCertificate(
        serial=m["serial"],
        device_id=m["device_id"],
        not_before=m["not_before"],
        not_after=m["not_after"],
        issued_at=m["issued_at"],
        revoked_at=m["revoked_at"],
        revoke_reason=m["revoke_reason"],
        device_slug=m["device_slug"],
    )


def _select() -> sa.Select[tuple[object, ...]]:
    return sa.select(*device_certificates.c, devices.c.slug.label("device_slug")).select_from(
        device_certificates.join(devices, devices.c.id == device_certificates.c.device_id)
    )


_DEVICE = "device__"
"""Label prefix of the device's columns in :meth:`DeviceCertificateRepository.presented`."""


class DeviceCertificateRepository(Repository):
    """Read and revoke device certificates."""

    async def presented(self, serial: str) -> tuple[DeviceCertificate, Device] | None:
        """The certificate with this serial and the device it was issued to, in one query
        (the tunnel handshake: one round trip where a certificate and then its device by
        slug took two)."""
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    _select()
                    .add_columns(*device_columns(_DEVICE))
                    .where(device_certificates.c.serial == serial)
                )
            ).first()
        if row is None:
            return None
        return _certificate(row._mapping), device_from(row._mapping, _DEVICE)

    async def get(self, serial: str) -> DeviceCertificate | None:
        """The certificate with this serial (lower-case hex), if it was issued here."""
        async with self._db.connect() as conn:
            row = (
                await conn.execute(_select().where(device_certificates.c.serial == serial))
            ).first()
        return None if row is None else _certificate(row._mapping)

    async def list_for_device(self, device_id: int) -> list[DeviceCertificate]:
        """Every certificate issued to the device, oldest first."""
        async with self._db.connect() as conn:
            rows = await conn.execute(
                _select()
                .where(device_certificates.c.device_id == device_id)
                .order_by(device_certificates.c.issued_at)
            )
            return [_certificate(r._mapping) for r in rows]

    async def revoke_device(self, device_id: int, *, now: datetime, reason: str = "") -> int:
        """Revoke every unrevoked certificate of the device; returns how many."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                device_certificates.update()
                .where(
                    device_certificates.c.device_id == device_id,
                    device_certificates.c.revoked_at.is_(None),
                )
                .values(revoked_at=now, revoke_reason=reason[:200])
            )
        return result.rowcount
