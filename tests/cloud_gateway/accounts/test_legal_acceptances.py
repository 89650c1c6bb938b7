"""Which published legal documents an account still has to accept (the portal's gate asks on
every page): the newest version of each kind, published after the account was created, not
accepted by this account (another account's acceptance does not count)."""

from __future__ import annotations

from datetime import timedelta

from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_security import AccountSecurityRepository
from cloud_gateway.store import Store
from tunnel.clock import ManualClock


async def _account(store: Store, clock: ManualClock, name: str) -> Account:
    return await store.repo(AccountRepository).create(
        username=name, email=f"{name}@example.org", password_hash="x", created_at=clock.now()
    )


async def test_missing_acceptances_newest_version_per_account(
    store: Store, clock: ManualClock
) -> None:
    legal = store.repo(AccountSecurityRepository)
    await legal.publish("privacy", "p1", clock.now())  # before both accounts: accepted
    clock.advance(timedelta(minutes=1))
    anna = await _account(store, clock, "anna")
    bert = await _account(store, clock, "bert")
    assert await legal.missing_acceptances(anna) == {}

    clock.advance(timedelta(minutes=1))
    await legal.publish("terms", "t2", clock.now())
    clock.advance(timedelta(minutes=1))
    await legal.publish("privacy", "p2", clock.now())
    assert await legal.missing_acceptances(anna) == {"terms": "t2", "privacy": "p2"}

    async with store.engine.begin() as conn:
        await legal.accept(conn, bert.id, {"terms": "t2"}, clock.now())
    assert await legal.missing_acceptances(anna) == {"terms": "t2", "privacy": "p2"}
    assert await legal.missing_acceptances(bert) == {"privacy": "p2"}

    clock.advance(timedelta(minutes=1))
    await legal.publish("terms", "t3", clock.now())  # replaces the accepted version t2
    assert await legal.missing_acceptances(bert) == {"terms": "t3", "privacy": "p2"}
    async with store.engine.begin() as conn:
        await legal.accept(conn, bert.id, {"terms": "t3", "privacy": "p2"}, clock.now())
    assert await legal.missing_acceptances(bert) == {}
    assert await legal.missing_acceptances(anna) == {"terms": "t3", "privacy": "p2"}
