"""Who a session cookie belongs to, in one statement (ADR 0034).

Every request with a session cookie needs its session, the session's account and the
account's security state (the gate's password-age check); three look-ups by key, read here
as one join, built once at import (only the token's hash is bound per request).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository import account_from
from cloud_gateway.accounts.repository_security import SecurityState, security_state
from cloud_gateway.accounts.repository_sessions import PortalSession, hash_token, session_from
from cloud_gateway.accounts.schema import account_security, accounts, portal_sessions
from cloud_gateway.errors import NotFoundError
from cloud_gateway.store.repository import Repository

__all__ = ["IdentityRepository", "SignedIn"]

_PARTS = {"s": portal_sessions, "a": accounts, "x": account_security}
#: the session by its token's hash, with its account and (outer: made elsewhere, none) the
#: account's security row; columns labelled ``<part>_<column>``
_IDENTIFY = (
    sa.select(*(c.label(f"{part}_{c.name}") for part, t in _PARTS.items() for c in t.c))
    .select_from(
        portal_sessions.outerjoin(
            accounts, accounts.c.id == portal_sessions.c.account_id
        ).outerjoin(account_security, account_security.c.account_id == accounts.c.id)
    )
    .where(portal_sessions.c.token_hash == sa.bindparam("token_hash"))
)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session with its account and the account's security state."""

    session: PortalSession
    account: Account
    security: SecurityState


def _part(row: Mapping[Any, Any], part: str) -> dict[str, Any] | None:
    """One table's columns of a row of :data:`_IDENTIFY` (``None``: no row joined)."""
    table = _PARTS[part]
    values = {c.name: row[f"{part}_{c.name}"] for c in table.c}
    (key,) = table.primary_key.columns  # one-column keys: accounts.id, account_id, token_hash
    return None if values[key.name] is None else values


class IdentityRepository(Repository):
    """The session of a cookie with its account and security state."""

    async def signed_in(self, token: str) -> SignedIn | None:
        """The session for ``token`` with its account, or ``None`` (no such session)."""
        async with self._db.connect() as conn:
            row = (await conn.execute(_IDENTIFY, {"token_hash": hash_token(token)})).first()
        if row is None:
            return None
        m = row._mapping
        session = session_from(_part(m, "s") or {})
        found = _part(m, "a")
        if found is None:  # as the account's own look-up says (a foreign key forbids it)
            raise NotFoundError(f"no account {session.account_id}")
        account = account_from(found)
        return SignedIn(session, account, security_state(account, _part(m, "x")))
