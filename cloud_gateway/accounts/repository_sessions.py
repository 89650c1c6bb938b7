"""Portal sessions repository. Only a hash of the session token is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cloud_gateway.accounts.schema import portal_sessions
from cloud_gateway.store.repository import Repository

__all__ = ["PortalSession", "SessionRepository", "hash_token", "session_from"]


def hash_token(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class PortalSession:
    """A logged-in browser session."""

    token_hash: str
    account_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    source_address: str


def _session(row: sa.Row[tuple[object, ...]]) -> PortalSession:
    return session_from(row._mapping)


def session_from(m: Mapping[Any, Any]) -> PortalSession:
    """The session of a ``portal_sessions`` row's columns (by their names)."""
    return PortalSession(
        token_hash=m["token_hash"],
        account_id=m["account_id"],
        csrf_token=m["csrf_token"],
        created_at=m["created_at"],
        last_seen_at=m["last_seen_at"],
        source_address=m["source_address"],
    )


class SessionRepository(Repository):
    """Create, find, touch and end portal sessions."""

    async def create(
        self, account_id: int, now: datetime, source_address: str = ""
    ) -> tuple[str, PortalSession]:
        """A new session; returns the secret token (for the cookie) and the stored row."""
        token = secrets.token_urlsafe(32)
        values = {
            "token_hash": hash_token(token),
            "account_id": account_id,
            "csrf_token": secrets.token_urlsafe(32),
            "created_at": now,
            "last_seen_at": now,
            "source_address": source_address[:64],
        }
        async with self._db.begin() as conn:
            await conn.execute(portal_sessions.insert().values(**values))
        return token, PortalSession(**values)  # type: ignore[arg-type]

    async def find(self, token: str) -> PortalSession | None:
        """The session for ``token``, if it exists."""
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    portal_sessions.select().where(
                        portal_sessions.c.token_hash == hash_token(token)
                    )
                )
            ).first()
        return None if row is None else _session(row)

    async def touch(self, token_hash: str, now: datetime) -> None:
        """Record activity on a session (idle timeout)."""
        async with self._db.begin() as conn:
            await conn.execute(
                portal_sessions.update()
                .where(portal_sessions.c.token_hash == token_hash)
                .values(last_seen_at=now)
            )

    async def end(self, token_hash: str) -> None:
        """End one session (logout)."""
        async with self._db.begin() as conn:
            await conn.execute(
                portal_sessions.delete().where(portal_sessions.c.token_hash == token_hash)
            )

    async def end_all(self, account_id: int, *, except_hash: str | None = None) -> int:
        """End every session of an account (password change), optionally keeping one."""
        query = portal_sessions.delete().where(portal_sessions.c.account_id == account_id)
        if except_hash is not None:
            query = query.where(portal_sessions.c.token_hash != except_hash)
        async with self._db.begin() as conn:
            result = await conn.execute(query)
        return result.rowcount
