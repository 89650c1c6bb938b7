"""The portal's tables: bank data, and erasing a closed account's personal data in one go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.accounts.schema import (
    account_tokens,
    accounts,
    customer_data,
    delegations,
    password_history,
    portal_sessions,
)
from cloud_gateway.devices.schema import devices
from cloud_gateway.plants.schema import plants
from cloud_gateway.portal.bank import BankDetails
from cloud_gateway.portal.schema import account_closures, bank_accounts
from cloud_gateway.store.repository import Repository
from cloud_gateway.tunnels.schema import device_certificates

__all__ = ["ErasedAccount", "PortalRepository", "StoredBankDetails"]

_B = bank_accounts


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredBankDetails:
    """Bank data as stored, with when it was last changed."""

    details: BankDetails
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ErasedAccount:
    """What erasing an account touched."""

    device_ids: tuple[int, ...]
    """The account's devices: certificates revoked, disabled, no longer assigned."""
    plants: int
    """Plants deleted with their inverters and readings."""


class PortalRepository(Repository):
    """Bank data and account closures."""

    async def bank(self, account_id: int) -> StoredBankDetails | None:
        """The account's bank data, if entered."""
        async with self._db.connect() as conn:
            row = (await conn.execute(_B.select().where(_B.c.account_id == account_id))).first()
        if row is None:
            return None
        m = row._mapping
        details = BankDetails(holder=m["holder"], iban=m["iban"], bic=m["bic"])
        return StoredBankDetails(details=details, updated_at=m["updated_at"])

    async def save_bank(self, account_id: int, details: BankDetails, now: datetime) -> None:
        """Insert or replace the account's bank data."""
        values = {"holder": details.holder, "iban": details.iban, "bic": details.bic}
        async with self._db.begin() as conn:
            result = await conn.execute(
                _B.update().where(_B.c.account_id == account_id).values(updated_at=now, **values)
            )
            if result.rowcount == 0:
                await conn.execute(
                    _B.insert().values(account_id=account_id, updated_at=now, **values)
                )

    async def closed_at(self, account_id: int) -> datetime | None:
        """When the account was closed (``None``: it is open)."""
        query = sa.select(account_closures.c.closed_at).where(
            account_closures.c.account_id == account_id
        )
        async with self._db.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    @staticmethod
    async def erase(
        conn: AsyncConnection, account_id: int, *, now: datetime, keep_until: date
    ) -> ErasedAccount:
        """Erase the account's personal data inside the caller's transaction.

        The account row stays (orders, contracts and documents refer to it; documents keep
        the buyer as printed) under a pseudonym with an unusable password; everything else
        personal goes: customer and bank data, plants, sessions, links, password history and
        delegations. Devices lose their certificates and their owner.
        """
        device_ids = tuple(
            (
                await conn.execute(
                    sa.select(devices.c.id).where(devices.c.account_id == account_id)
                )
            ).scalars()
        )
        if device_ids:
            await conn.execute(
                device_certificates.update()
                .where(
                    device_certificates.c.device_id.in_(device_ids),
                    device_certificates.c.revoked_at.is_(None),
                )
                .values(revoked_at=now, revoke_reason="account closed")
            )
            await conn.execute(
                devices.update()
                .where(devices.c.id.in_(device_ids))
                .values(account_id=None, disabled=True, name="")
            )
        deleted_plants = await conn.execute(
            plants.delete().where(plants.c.account_id == account_id)
        )
        for table in (customer_data, _B, portal_sessions, account_tokens, password_history):
            await conn.execute(table.delete().where(table.c.account_id == account_id))
        await conn.execute(
            delegations.update()
            .where(
                sa.or_(
                    delegations.c.owner_account_id == account_id,
                    delegations.c.installer_account_id == account_id,
                ),
                delegations.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        await conn.execute(
            accounts.update()
            .where(accounts.c.id == account_id)
            .values(
                username=f"geloescht-{account_id}",
                email=f"geloescht-{account_id}@invalid",
                password_hash="!closed",  # noqa: S106 - no argon2 hash: never matches
            )
        )
        await conn.execute(
            account_closures.insert().values(
                account_id=account_id, closed_at=now, keep_documents_until=keep_until
            )
        )
        return ErasedAccount(device_ids=device_ids, plants=deleted_plants.rowcount)
