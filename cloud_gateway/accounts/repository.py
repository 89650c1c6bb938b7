"""Accounts repository."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.accounts.model import Account, Role
from cloud_gateway.accounts.schema import accounts
from cloud_gateway.errors import ConflictError, NotFoundError
from cloud_gateway.store.repository import Repository

__all__ = ["AccountRepository", "account_from", "insert_account"]


def _account(row: sa.Row[tuple[object, ...]]) -> Account:
    return account_from(row._mapping)


def account_from(m: Mapping[Any, Any]) -> Account:
    """The account of an ``accounts`` row's columns (by their names)."""
    return Account(
        id=m["id"],
        username=m["username"],
        email=m["email"],
        password_hash=m["password_hash"],
        role=Role(m["role"]),
        language=m["language"],
        created_at=m["created_at"],
    )


async def insert_account(
    conn: AsyncConnection,
    *,
    username: str,
    email: str,
    password_hash: str,
    created_at: datetime,
    role: Role,
    language: str,
) -> Account:
    """Insert an account in ``conn``'s transaction; :class:`ConflictError` when the user name
    or the e-mail address (both case-insensitive) is already registered."""
    taken = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(accounts)
        .where(
            sa.or_(
                sa.func.lower(accounts.c.username) == username.lower(),
                accounts.c.email == email.lower(),
            )
        )
    )
    if taken:
        raise ConflictError("user name or e-mail address already registered")
    values = {
        "username": username,
        "email": email.lower(),
        "password_hash": password_hash,
        "role": role.value,
        "language": language,
        "created_at": created_at,
    }
    try:
        result = await conn.execute(accounts.insert().values(**values).returning(*accounts.c))
    except IntegrityError as exc:  # registered by a concurrent transaction since the check
        raise ConflictError("user name or e-mail address already registered") from exc
    return _account(result.one())


class AccountRepository(Repository):
    """Create and read accounts."""

    async def create(
        self,
        *,
        username: str,
        email: str,
        password_hash: str,
        created_at: datetime,
        role: Role = Role.CUSTOMER,
        language: str = "de",
    ) -> Account:
        """Insert a new account; user name and e-mail are unique (case-insensitive)."""
        async with self._db.begin() as conn:
            return await insert_account(
                conn,
                username=username,
                email=email,
                password_hash=password_hash,
                created_at=created_at,
                role=role,
                language=language,
            )

    async def get(self, account_id: int) -> Account:
        """The account with this id."""
        async with self._db.connect() as conn:
            row = (await conn.execute(accounts.select().where(accounts.c.id == account_id))).first()
        if row is None:
            raise NotFoundError(f"no account {account_id}")
        return _account(row)

    async def find_by_login(self, login: str) -> Account | None:
        """The account whose user name or e-mail address is ``login`` (case-insensitive)."""
        needle = login.strip().lower()
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    accounts.select().where(
                        sa.or_(
                            sa.func.lower(accounts.c.username) == needle,
                            accounts.c.email == needle,
                        )
                    )
                )
            ).first()
        return None if row is None else _account(row)
