"""Customer data (address, business data, VAT ID check with its proof) and delegations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from cloud_gateway.accounts.customer_fields import INPUT_TEXT_FIELDS
from cloud_gateway.accounts.customer_rules import CustomerKind, VatState
from cloud_gateway.accounts.schema import customer_data, delegations
from cloud_gateway.errors import NotFoundError
from cloud_gateway.store.repository import Repository

__all__ = ["CustomerData", "CustomerRepository", "StoredDelegation"]

_C = customer_data
_D = delegations


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerData:
    """An account's customer data."""

    account_id: int
    kind: CustomerKind
    name: str
    name_corrected: str = ""
    street: str
    street_corrected: str = ""
    postcode: str
    city: str
    city_corrected: str = ""
    country: str
    vat_id: str = ""
    vat_state: VatState = VatState.NONE
    vat_checked_at: datetime | None = None
    vat_next_check_at: datetime | None = None
    vat_attempts: int = 0
    vat_proof: str = ""
    """JSON: the service's answer and when it was given."""
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDelegation:
    """An owner's permission for an installer."""

    id: int
    owner_account_id: int
    installer_account_id: int
    plant_id: int | None
    created_at: datetime
    revoked_at: datetime | None
    device_id: int | None = None
    """Set for a device delegation (remote access to that device only); then no plant."""


def _customer(row: sa.Row[tuple[object, ...]]) -> CustomerData:
    m = row._mapping
    return CustomerData(
        account_id=m["account_id"],
        kind=CustomerKind(m["customer_kind"]),
        **{name: m[name] for name in INPUT_TEXT_FIELDS},
        vat_state=VatState(m["vat_state"]),
        vat_checked_at=m["vat_checked_at"],
        vat_next_check_at=m["vat_next_check_at"],
        vat_attempts=m["vat_attempts"],
        vat_proof=m["vat_proof"],
        updated_at=m["updated_at"],
    )


def _delegation(row: sa.Row[tuple[object, ...]]) -> StoredDelegation:
    m = row._mapping
    return StoredDelegation(
        id=m["id"],
        owner_account_id=m["owner_account_id"],
        installer_account_id=m["installer_account_id"],
        plant_id=m["plant_id"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
        device_id=m["device_id"],
    )


class CustomerRepository(Repository):
    """Read and write customer data and delegations."""

    async def get(self, account_id: int) -> CustomerData | None:
        """The account's customer data, if entered."""
        async with self._db.connect() as conn:
            row = (await conn.execute(_C.select().where(_C.c.account_id == account_id))).first()
        return None if row is None else _customer(row)

    async def save(self, data: CustomerData) -> CustomerData:
        """Insert or replace the account's customer data."""
        values = {
            "customer_kind": data.kind.value,
            "name": data.name,
            "name_corrected": data.name_corrected,
            "street": data.street,
            "street_corrected": data.street_corrected,
            "postcode": data.postcode,
            "city": data.city,
            "city_corrected": data.city_corrected,
            "country": data.country,
            "vat_id": data.vat_id,
            "vat_state": data.vat_state.value,
            "vat_checked_at": data.vat_checked_at,
            "vat_next_check_at": data.vat_next_check_at,
            "vat_attempts": data.vat_attempts,
            "vat_proof": data.vat_proof,
            "updated_at": data.updated_at,
        }
        async with self._db.begin() as conn:
            result = await conn.execute(
                _C.update().where(_C.c.account_id == data.account_id).values(**values)
            )
            if result.rowcount == 0:
                await conn.execute(_C.insert().values(account_id=data.account_id, **values))
        return data

    async def vat_checks_due(self, now: datetime) -> list[CustomerData]:
        """Pending VAT checks whose retry time has come."""
        async with self._db.connect() as conn:
            rows = await conn.execute(
                _C.select().where(
                    _C.c.vat_state == VatState.PENDING.value, _C.c.vat_next_check_at <= now
                )
            )
            return [_customer(r) for r in rows]

    async def delegate(
        self,
        owner_account_id: int,
        installer_account_id: int,
        plant_id: int | None,
        now: datetime,
        *,
        device_id: int | None = None,
    ) -> StoredDelegation:
        """The owner lets the installer monitor one plant (or all with ``None``).

        With ``device_id`` (and no plant) the delegation is for that one device instead:
        the installer may open it remotely.
        """
        if device_id is not None and plant_id is not None:
            raise ValueError("a delegation is for a plant or for a device, not both")
        async with self._db.begin() as conn:
            row = (
                await conn.execute(
                    _D.insert()
                    .values(
                        owner_account_id=owner_account_id,
                        installer_account_id=installer_account_id,
                        plant_id=plant_id,
                        device_id=device_id,
                        created_at=now,
                    )
                    .returning(*_D.c)
                )
            ).one()
        return _delegation(row)

    async def delegation(self, delegation_id: int) -> StoredDelegation:
        """One delegation."""
        async with self._db.connect() as conn:
            row = (await conn.execute(_D.select().where(_D.c.id == delegation_id))).first()
        if row is None:
            raise NotFoundError(f"no delegation {delegation_id}")
        return _delegation(row)

    async def revoke(self, delegation_id: int, now: datetime) -> None:
        """End a delegation (R-MON-20: revocable)."""
        async with self._db.begin() as conn:
            await conn.execute(
                _D.update()
                .where(_D.c.id == delegation_id, _D.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    async def delegations(
        self, *, owner_account_id: int | None = None, installer_account_id: int | None = None
    ) -> list[StoredDelegation]:
        """Active delegations given by an owner or held by an installer."""
        query = _D.select().where(_D.c.revoked_at.is_(None)).order_by(_D.c.id)
        if owner_account_id is not None:
            query = query.where(_D.c.owner_account_id == owner_account_id)
        if installer_account_id is not None:
            query = query.where(_D.c.installer_account_id == installer_account_id)
        async with self._db.connect() as conn:
            return [_delegation(r) for r in await conn.execute(query)]
