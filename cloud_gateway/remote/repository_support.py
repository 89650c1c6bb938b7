"""Support grants: an owner lets operators open one device for a while (R-OPS-4, ADR 0021).

A grant is live from ``granted_at`` until ``expires_at`` unless ``revoked_at`` is set first.
Rows are never deleted: they are the owner's record of whom they let in, beside the remote
sessions (``remote_sessions``) that show what was done with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from cloud_gateway.remote.schema import support_grants
from cloud_gateway.store.repository import Repository

__all__ = ["SupportGrant", "SupportGrantRepository"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SupportGrant:
    """One time-limited support access to a device, granted by its owner."""

    id: int
    device_id: int
    owner_account_id: int
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def live(self, now: datetime) -> bool:
        """Whether operators may open the device under this grant at ``now``."""
        return self.revoked_at is None and self.granted_at <= now < self.expires_at


def _grant(row: sa.Row[tuple[object, ...]]) -> SupportGrant:
    m = row._mapping
    return SupportGrant(
        id=m["id"],
        device_id=m["device_id"],
        owner_account_id=m["owner_account_id"],
        granted_at=m["granted_at"],
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
    )


class SupportGrantRepository(Repository):
    """Grant, revoke and look up support access per device."""

    async def grant(
        self, *, device_id: int, owner_account_id: int, now: datetime, until: datetime
    ) -> SupportGrant:
        """A new grant; a still live older one of the device ends now (one live at a time)."""
        async with self._db.begin() as conn:
            await conn.execute(_revoke_live(device_id, now))
            row = (
                await conn.execute(
                    support_grants.insert()
                    .values(
                        device_id=device_id,
                        owner_account_id=owner_account_id,
                        granted_at=now,
                        expires_at=until,
                    )
                    .returning(*support_grants.c)
                )
            ).one()
        return _grant(row)

    async def revoke(self, device_id: int, now: datetime) -> int:
        """End the device's live grant now; how many ended (0 or 1)."""
        async with self._db.begin() as conn:
            result = await conn.execute(_revoke_live(device_id, now))
        return int(result.rowcount)

    async def live(self, device_id: int, now: datetime) -> SupportGrant | None:
        """The device's live grant at ``now``, if any."""
        c = support_grants.c
        query = (
            support_grants.select()
            .where(
                c.device_id == device_id,
                c.revoked_at.is_(None),
                c.granted_at <= now,
                c.expires_at > now,
            )
            .order_by(c.expires_at.desc())
            .limit(1)
        )
        async with self._db.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _grant(row)

    async def history(self, device_id: int, limit: int = 50) -> list[SupportGrant]:
        """The device's grants, newest first."""
        query = (
            support_grants.select()
            .where(support_grants.c.device_id == device_id)
            .order_by(support_grants.c.id.desc())
            .limit(limit)
        )
        async with self._db.connect() as conn:
            return [_grant(r) for r in await conn.execute(query)]


def _revoke_live(device_id: int, now: datetime) -> sa.Update:
    c = support_grants.c
    return (
        support_grants.update()
        .where(c.device_id == device_id, c.revoked_at.is_(None), c.expires_at > now)
        .values(revoked_at=now)
    )
