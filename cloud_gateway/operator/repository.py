"""Staff second factor and the console audit (tables in ``operator.schema``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from cloud_gateway.operator.schema import (
    console_audit,
    operator_mfa_sessions,
    operator_recovery_codes,
    operator_totp,
)
from cloud_gateway.store.repository import Repository

__all__ = ["AuditEntry", "ConsoleAuditRepository", "SecondFactorRepository", "TotpState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpState:
    """A staff account's TOTP secret and how far it is used."""

    account_id: int
    secret: str
    confirmed_at: datetime | None
    last_step: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One state-changing console action."""

    id: int
    at: datetime
    operator_account_id: int | None
    operator: str
    action: str
    target: str
    reason: str
    detail: str


class SecondFactorRepository(Repository):
    """TOTP secrets, recovery codes and verified sessions."""

    async def state(self, account_id: int) -> TotpState | None:
        """The account's TOTP state, if enrolment has begun."""
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    operator_totp.select().where(operator_totp.c.account_id == account_id)
                )
            ).first()
        if row is None:
            return None
        m = row._mapping
        return TotpState(
            account_id=m["account_id"],
            secret=m["secret"],
            confirmed_at=m["confirmed_at"],
            last_step=m["last_step"],
        )

    async def begin(self, account_id: int, secret: str, now: datetime) -> None:
        """Store a new, unconfirmed secret (replacing an unconfirmed one)."""
        async with self._db.begin() as conn:
            await conn.execute(
                operator_totp.delete().where(
                    operator_totp.c.account_id == account_id,
                    operator_totp.c.confirmed_at.is_(None),
                )
            )
            await conn.execute(
                operator_totp.insert().values(account_id=account_id, secret=secret, created_at=now)
            )

    async def confirm(
        self, account_id: int, step: int, now: datetime, code_hashes: Sequence[str]
    ) -> bool:
        """Confirm the secret with its first code and store the recovery codes; False if it
        was confirmed meanwhile."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                operator_totp.update()
                .where(
                    operator_totp.c.account_id == account_id,
                    operator_totp.c.confirmed_at.is_(None),
                )
                .values(confirmed_at=now, last_step=step)
            )
            if result.rowcount != 1:
                return False
            await conn.execute(
                operator_recovery_codes.delete().where(
                    operator_recovery_codes.c.account_id == account_id
                )
            )
            for code_hash in code_hashes:
                await conn.execute(
                    operator_recovery_codes.insert().values(
                        account_id=account_id, code_hash=code_hash, created_at=now
                    )
                )
        return True

    async def use_step(self, account_id: int, step: int) -> bool:
        """Record ``step`` as used; False if it (or a newer one) was used already."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                operator_totp.update()
                .where(
                    operator_totp.c.account_id == account_id,
                    operator_totp.c.confirmed_at.is_not(None),
                    operator_totp.c.last_step < step,
                )
                .values(last_step=step)
            )
        return bool(result.rowcount == 1)

    async def use_recovery_code(self, account_id: int, code_hash: str, now: datetime) -> bool:
        """Spend one recovery code; False if unknown or used."""
        c = operator_recovery_codes.c
        async with self._db.begin() as conn:
            result = await conn.execute(
                operator_recovery_codes.update()
                .where(c.account_id == account_id, c.code_hash == code_hash, c.used_at.is_(None))
                .values(used_at=now)
            )
        return bool(result.rowcount == 1)

    async def recovery_codes_left(self, account_id: int) -> int:
        """How many unused recovery codes the account has."""
        c = operator_recovery_codes.c
        async with self._db.connect() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count()).where(c.account_id == account_id, c.used_at.is_(None))
            )
        return int(count or 0)

    async def mark_session(self, token_hash: str, now: datetime) -> None:
        """The session's second factor is verified."""
        async with self._db.begin() as conn:
            await conn.execute(
                operator_mfa_sessions.delete().where(
                    operator_mfa_sessions.c.token_hash == token_hash
                )
            )
            await conn.execute(
                operator_mfa_sessions.insert().values(token_hash=token_hash, verified_at=now)
            )

    async def session_verified(self, token_hash: str) -> bool:
        """Whether the session passed the second factor."""
        async with self._db.connect() as conn:
            found = await conn.scalar(
                sa.select(operator_mfa_sessions.c.verified_at).where(
                    operator_mfa_sessions.c.token_hash == token_hash
                )
            )
        return found is not None


class ConsoleAuditRepository(Repository):
    """The console audit: append and read."""

    async def record(
        self,
        *,
        at: datetime,
        operator_account_id: int,
        operator: str,
        action: str,
        target: str,
        reason: str,
        detail: str = "",
    ) -> None:
        """Append one action."""
        async with self._db.begin() as conn:
            await conn.execute(
                console_audit.insert().values(
                    at=at,
                    operator_account_id=operator_account_id,
                    operator=operator[:64],
                    action=action[:48],
                    target=target[:128],
                    reason=reason[:500],
                    detail=detail[:500],
                )
            )

    async def recent(self, *, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """The newest actions first, optionally on one target."""
        query = console_audit.select().order_by(console_audit.c.id.desc()).limit(limit)
        if target is not None:
            query = query.where(console_audit.c.target == target)
        async with self._db.connect() as conn:
            rows = await conn.execute(query)
        return [AuditEntry(**dict(r._mapping)) for r in rows]
