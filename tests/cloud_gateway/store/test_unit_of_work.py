"""The unit of work: repositories bound to one connection commit or roll back together."""

from __future__ import annotations

import pytest

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.store import Store
from tunnel.clock import ManualClock


class _AbortError(Exception):
    pass


async def test_repositories_of_one_unit_commit_together(store: Store, clock: ManualClock) -> None:
    async with store.transaction() as uow:
        account = await uow.repo(AccountRepository).create(
            username="anna", email="a@example.org", password_hash="h", created_at=clock.now()
        )
        # The device refers to the account inserted on the same, still open connection.
        device = await uow.repo(DeviceRepository).create(
            slug="ccu-anna", kind=DeviceKind.CCU, created_at=clock.now(), account_id=account.id
        )
        assert uow.repo(DeviceRepository) is uow.repo(DeviceRepository)
    assert await store.repo(AccountRepository).get(account.id) == account
    assert await store.repo(DeviceRepository).get_by_slug("ccu-anna") == device


async def _write_both_then_fail(store: Store, clock: ManualClock) -> None:
    async with store.transaction() as uow:
        account = await uow.repo(AccountRepository).create(
            username="bert", email="b@example.org", password_hash="h", created_at=clock.now()
        )
        await uow.repo(DeviceRepository).create(
            slug="ccu-bert", kind=DeviceKind.CCU, created_at=clock.now(), account_id=account.id
        )
        raise _AbortError


async def test_an_error_rolls_back_every_repository_of_the_unit(
    store: Store, clock: ManualClock
) -> None:
    with pytest.raises(_AbortError):
        await _write_both_then_fail(store, clock)
    assert await store.repo(AccountRepository).find_by_login("bert") is None
    with pytest.raises(NotFoundError):
        await store.repo(DeviceRepository).get_by_slug("ccu-bert")


def test_the_store_hands_out_one_repository_per_class(store: Store) -> None:
    assert store.repo(AccountRepository) is store.repo(AccountRepository)
