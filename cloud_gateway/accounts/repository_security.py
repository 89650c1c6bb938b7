"""Account security: validation state, password history, login failures, links, terms.

Writes that belong to a larger change (registration, password change) take the caller's
connection so that they commit together with it and with the outbox mail they cause.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.accounts.model import Account, Role
from cloud_gateway.accounts.repository import insert_account
from cloud_gateway.accounts.repository_sessions import hash_token
from cloud_gateway.accounts.schema import (
    account_security,
    account_tokens,
    accounts,
    legal_acceptances,
    legal_documents,
    login_failures,
    password_history,
)
from cloud_gateway.errors import LinkError, NotFoundError
from cloud_gateway.store.repository import Repository

__all__ = ["AccountSecurityRepository", "LinkPurpose", "SecurityState", "security_state"]


#: every published legal document with whether one account accepted it, oldest first: one
#: statement, built once (the portal's gate runs it on every page)
_PUBLISHED_AND_ACCEPTED = (
    sa.select(
        legal_documents.c.kind,
        legal_documents.c.version,
        legal_documents.c.published_at,
        legal_acceptances.c.account_id.is_not(None).label("accepted"),
    )
    .select_from(
        legal_documents.outerjoin(
            legal_acceptances,
            sa.and_(
                legal_acceptances.c.account_id == sa.bindparam("account_id"),
                legal_acceptances.c.kind == legal_documents.c.kind,
                legal_acceptances.c.version == legal_documents.c.version,
            ),
        )
    )
    .order_by(legal_documents.c.published_at)
)


class LinkPurpose(StrEnum):
    """What a mailed link is for."""

    VALIDATE_EMAIL = "validate_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityState:
    """An account's validation and password age."""

    account_id: int
    email_verified_at: datetime | None
    password_changed_at: datetime
    must_change_password: bool


def security_state(account: Account, m: Mapping[Any, Any] | None) -> SecurityState:
    """The state of an ``account_security`` row's columns (by their names); without a row
    (an account made elsewhere) validated, its password as old as the account."""
    if m is None:
        return SecurityState(
            account_id=account.id,
            email_verified_at=account.created_at,
            password_changed_at=account.created_at,
            must_change_password=False,
        )
    return SecurityState(
        account_id=account.id,
        email_verified_at=m["email_verified_at"],
        password_changed_at=m["password_changed_at"],
        must_change_password=bool(m["must_change_password"]),
    )


class AccountSecurityRepository(Repository):
    """Security data of accounts."""

    # -- accounts --------------------------------------------------------------------------

    async def create_account(
        self,
        conn: AsyncConnection,
        *,
        username: str,
        email: str,
        password_hash: str,
        now: datetime,
        language: str,
        role: Role = Role.CUSTOMER,
    ) -> Account:
        """A new, not yet validated account with its first password in the history."""
        account = await insert_account(
            conn,
            username=username,
            email=email,
            password_hash=password_hash,
            created_at=now,
            role=role,
            language=language,
        )
        await conn.execute(
            account_security.insert().values(account_id=account.id, password_changed_at=now)
        )
        await conn.execute(
            password_history.insert().values(
                account_id=account.id, password_hash=password_hash, created_at=now
            )
        )
        return account

    async def state(self, account: Account) -> SecurityState:
        """The account's security state; accounts made elsewhere count as validated."""
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    account_security.select().where(account_security.c.account_id == account.id)
                )
            ).first()
        return security_state(account, None if row is None else row._mapping)

    async def mark_verified(self, conn: AsyncConnection, account_id: int, at: datetime) -> None:
        """The e-mail address was confirmed."""
        await conn.execute(
            account_security.update()
            .where(account_security.c.account_id == account_id)
            .values(email_verified_at=at)
        )

    async def set_password(
        self, conn: AsyncConnection, account: Account, password_hash: str, at: datetime
    ) -> None:
        """Store a new password hash, its age and its place in the history."""
        await conn.execute(
            accounts.update().where(accounts.c.id == account.id).values(password_hash=password_hash)
        )
        updated = await conn.execute(
            account_security.update()
            .where(account_security.c.account_id == account.id)
            .values(password_changed_at=at, must_change_password=False)
        )
        if updated.rowcount == 0:
            await conn.execute(
                account_security.insert().values(
                    account_id=account.id,
                    password_changed_at=at,
                    email_verified_at=account.created_at,
                )
            )
        await conn.execute(
            password_history.insert().values(
                account_id=account.id, password_hash=password_hash, created_at=at
            )
        )

    async def recent_hashes(self, account_id: int, count: int) -> list[str]:
        """The last ``count`` password hashes, newest first."""
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(password_history.c.password_hash)
                .where(password_history.c.account_id == account_id)
                .order_by(password_history.c.id.desc())
                .limit(count)
            )
            return [r[0] for r in rows]

    # -- login failures --------------------------------------------------------------------

    async def record_failures(self, subjects: list[str], at: datetime) -> None:
        """One failed login for each subject (account or login name, source address)."""
        async with self._db.begin() as conn:
            for subject in subjects:
                await conn.execute(
                    login_failures.insert().values(subject=subject[:320], failed_at=at)
                )

    async def failures_since(self, subject: str, since: datetime) -> list[datetime]:
        """Failure instants of ``subject`` from ``since`` on."""
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(login_failures.c.failed_at).where(
                    login_failures.c.subject == subject[:320], login_failures.c.failed_at >= since
                )
            )
            return [r[0] for r in rows]

    async def clear_failures(self, subject: str) -> None:
        """Forget the failures of ``subject`` (after a successful login)."""
        async with self._db.begin() as conn:
            await conn.execute(
                login_failures.delete().where(login_failures.c.subject == subject[:320])
            )

    # -- links -----------------------------------------------------------------------------

    async def create_link(
        self,
        conn: AsyncConnection,
        account_id: int,
        purpose: LinkPurpose,
        now: datetime,
        expires_at: datetime,
    ) -> str:
        """A new single-use link token (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        await conn.execute(
            account_tokens.insert().values(
                token_hash=hash_token(token),
                account_id=account_id,
                purpose=purpose.value,
                created_at=now,
                expires_at=expires_at,
            )
        )
        return token

    async def peek_link(self, token: str, purpose: LinkPurpose, now: datetime) -> int:
        """The account a still valid link belongs to (the link stays unused)."""
        async with self._db.connect() as conn:
            return await self._valid(conn, token, purpose, now)

    async def use_link(
        self, conn: AsyncConnection, token: str, purpose: LinkPurpose, now: datetime
    ) -> int:
        """Spend a link inside the caller's transaction; raises :class:`LinkError`."""
        account_id = await self._valid(conn, token, purpose, now)
        result = await conn.execute(
            account_tokens.update()
            .where(
                account_tokens.c.token_hash == hash_token(token), account_tokens.c.used_at.is_(None)
            )
            .values(used_at=now)
        )
        if result.rowcount != 1:
            raise LinkError("link already used")
        return account_id

    async def _valid(
        self, conn: AsyncConnection, token: str, purpose: LinkPurpose, now: datetime
    ) -> int:
        row = (
            await conn.execute(
                account_tokens.select().where(account_tokens.c.token_hash == hash_token(token))
            )
        ).first()
        if row is None or row._mapping["purpose"] != purpose.value:
            raise LinkError("unknown link")
        m = row._mapping
        if m["used_at"] is not None:
            raise LinkError("link already used")
        if now >= m["expires_at"]:
            raise LinkError("link expired")
        return int(m["account_id"])

    async def expire_links(
        self, conn: AsyncConnection, account_id: int, purpose: LinkPurpose, now: datetime
    ) -> None:
        """Spend every open link of this purpose (a newer one replaces them)."""
        await conn.execute(
            account_tokens.update()
            .where(
                account_tokens.c.account_id == account_id,
                account_tokens.c.purpose == purpose.value,
                account_tokens.c.used_at.is_(None),
            )
            .values(used_at=now)
        )

    # -- terms of use and privacy policy ---------------------------------------------------

    async def current_documents(self) -> dict[str, str]:
        """The newest published version of each legal document kind."""
        async with self._db.connect() as conn:
            rows = await conn.execute(
                legal_documents.select().order_by(legal_documents.c.published_at)
            )
            return {r.kind: r.version for r in rows}

    async def publish(self, kind: str, version: str, at: datetime) -> None:
        """Publish a new version; everyone must accept it before using the API again."""
        async with self._db.begin() as conn:
            await conn.execute(
                legal_documents.insert().values(kind=kind, version=version, published_at=at)
            )

    async def accept(
        self, conn: AsyncConnection, account_id: int, versions: dict[str, str], at: datetime
    ) -> None:
        """Record that the account accepted these versions."""
        for kind, version in versions.items():
            done = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(legal_acceptances)
                .where(
                    legal_acceptances.c.account_id == account_id,
                    legal_acceptances.c.kind == kind,
                    legal_acceptances.c.version == version,
                )
            )
            if not done:
                await conn.execute(
                    legal_acceptances.insert().values(
                        account_id=account_id, kind=kind, version=version, accepted_at=at
                    )
                )

    async def missing_acceptances(self, account: Account) -> dict[str, str]:
        """Current versions the account still has to accept.

        Versions published before the account was created were accepted at registration (the
        form requires it), so only later publications and unaccepted ones count.
        """
        async with self._db.connect() as conn:
            rows = (await conn.execute(_PUBLISHED_AND_ACCEPTED, {"account_id": account.id})).all()
        # the newest publication of each kind wins (ordered by publication)
        current = {r.kind: (r.version, r.published_at, r.accepted) for r in rows}
        return {
            kind: version
            for kind, (version, published_at, accepted) in current.items()
            if published_at > account.created_at and not accepted
        }

    async def get_account(self, account_id: int) -> Account:
        """Shortcut used by flows that only hold an id."""
        async with self._db.connect() as conn:
            row = (await conn.execute(accounts.select().where(accounts.c.id == account_id))).first()
        if row is None:
            raise NotFoundError(f"no account {account_id}")
        m = row._mapping
        return Account(
            id=m["id"],
            username=m["username"],
            email=m["email"],
            password_hash=m["password_hash"],
            role=Role(m["role"]),
            language=m["language"],
            created_at=m["created_at"],
        )
