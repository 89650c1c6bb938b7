"""A store with an owner, an installer, a hub and a remote session, for the gate's tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from cloud_gateway.accounts.model import Account, Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.remote.repository import RemoteAccessRepository, RemoteSession
from cloud_gateway.store import Store
from tunnel.clock import ManualClock

__all__ = ["Hub", "counting_statements", "make_hub", "start_session"]


@dataclass
class Hub:
    """Anna's hub, and Ivo, an installer."""

    owner: Account
    installer: Account
    device: Device


async def make_hub(store: Store, clock: ManualClock) -> Hub:
    accounts = []
    for name, role in (("anna", Role.CUSTOMER), ("ivo", Role.INSTALLER)):
        accounts.append(
            await store.repo(AccountRepository).create(
                username=name,
                email=f"{name}@example.org",
                password_hash="x",
                created_at=clock.now(),
                role=role,
            )
        )
    device = await store.repo(DeviceRepository).create(
        slug="ccu-anna", kind=DeviceKind.CCU, created_at=clock.now(), account_id=accounts[0].id
    )
    return Hub(accounts[0], accounts[1], device)


async def start_session(
    store: Store, clock: ManualClock, account: Account, device: Device, token_hash: str
) -> RemoteSession:
    return await store.repo(RemoteAccessRepository).start_session(
        token_hash,
        account_id=account.id,
        device_id=device.id,
        username=account.username,
        device_slug=device.slug,
        source_address="198.51.100.7",
        now=clock.now(),
    )


@contextmanager
def counting_statements(store: Store) -> Iterator[list[str]]:
    """Every SQL statement the store's engine runs inside the block."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = store.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
