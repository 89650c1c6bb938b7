"""Column types and column helpers shared by every area's tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from cloud_gateway.errors import StoreError

__all__ = ["BigId", "UtcDateTime", "account_fk"]

#: a 64-bit surrogate key that is still SQLite's rowid alias (``INTEGER PRIMARY KEY``)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def account_fk(name: str = "account_id", *, nullable: bool = False) -> sa.Column[int]:
    """A column referring to ``accounts.id`` (cascading, or ``SET NULL`` when nullable)."""
    ondelete = "SET NULL" if nullable else "CASCADE"
    return sa.Column(
        name, sa.Integer, sa.ForeignKey("accounts.id", ondelete=ondelete), nullable=nullable
    )


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An instant stored in UTC; Python sees aware ``datetime`` values on every backend.

    SQLite has no time zone support, so values are normalised to UTC on the way in
    and tagged as UTC on the way out. Naive values are refused: they are a bug.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise StoreError(f"the database returned {value!r} for an instant")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
