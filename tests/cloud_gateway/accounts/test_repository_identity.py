"""A session cookie's session, account and security state in one statement (ADR 0034), the
same as the three look-ups it replaces; both backends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository import AccountRepository, insert_account
from cloud_gateway.accounts.repository_identity import IdentityRepository
from cloud_gateway.accounts.repository_security import AccountSecurityRepository
from cloud_gateway.accounts.repository_sessions import SessionRepository
from cloud_gateway.store import Store
from tunnel.clock import ManualClock


async def test_one_statement_gives_what_the_three_look_ups_gave(
    store: Store, clock: ManualClock
) -> None:
    async with store.database.begin() as conn:  # registered: with its security row
        account = await store.repo(AccountSecurityRepository).create_account(
            conn,
            username="anna",
            email="anna@example.org",
            password_hash="x",
            now=clock.now(),
            language="de",
        )
    clock.advance(timedelta(minutes=5))
    token, _ = await store.repo(SessionRepository).create(account.id, clock.now(), "192.0.2.7")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        found = await store.repo(IdentityRepository).signed_in(token)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert found is not None
    assert found.session == await store.repo(SessionRepository).find(token)
    assert found.account == await store.repo(AccountRepository).get(account.id)
    assert found.security == await store.repo(AccountSecurityRepository).state(account)
    assert found.security.email_verified_at is None  # from the row: not validated yet
    assert await store.repo(IdentityRepository).signed_in("no-such-token") is None


async def test_an_account_without_a_security_row_counts_as_validated(
    store: Store, clock: ManualClock
) -> None:
    """Accounts made elsewhere (the CLI's staff, imports) have no security row: the state
    is the one ``AccountSecurityRepository.state`` gives them, from the account's creation."""
    async with store.database.begin() as conn:
        account = await insert_account(
            conn,
            username="op",
            email="op@example.org",
            password_hash="x",
            created_at=clock.now(),
            role=Role.OPERATOR,
            language="de",
        )
    token, _ = await store.repo(SessionRepository).create(account.id, clock.now())
    found = await store.repo(IdentityRepository).signed_in(token)
    assert found is not None
    assert found.account.role is Role.OPERATOR
    assert found.security == await store.repo(AccountSecurityRepository).state(account)
    assert found.security.must_change_password is False
    assert found.security.password_changed_at == account.created_at
