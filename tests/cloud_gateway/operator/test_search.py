"""Device and account search of the console on both backends: any case, by owner, wildcards
taken literally."""

from __future__ import annotations

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.operator.repository_search import ConsoleSearchRepository
from cloud_gateway.store import Store
from tunnel.clock import ManualClock


async def test_search_devices_and_accounts(store: Store, clock: ManualClock) -> None:
    accounts = store.repo(AccountRepository)
    anna = await accounts.create(
        username="Anna_S", email="anna@example.org", password_hash="x", created_at=clock.now()
    )
    await accounts.create(
        username="olga", email="olga@example.org", password_hash="x", created_at=clock.now(),
        role=Role.OPERATOR,
    )  # fmt: skip
    devices = store.repo(DeviceRepository)
    await devices.create(
        slug="dach-ccu", kind=DeviceKind.CCU, created_at=clock.now(), account_id=anna.id
    )
    await devices.create(
        slug="keller-agent", kind=DeviceKind.INVERTER_AGENT, created_at=clock.now()
    )
    search = store.repo(ConsoleSearchRepository)

    assert [d.slug for d in await search.devices("ANNA")] == ["dach-ccu"]  # by owner
    assert [(d.slug, d.owner) for d in await search.devices("keller")] == [("keller-agent", "")]
    assert len(await search.devices("")) == 2
    assert [a.username for a in await search.accounts("a_s")] == ["Anna_S"]
    assert await search.accounts("a%s") == []  # a wildcard is a character here
    [hit] = await search.accounts("anna")
    assert hit.devices == 1
    assert [a.username for a in await search.staff()] == ["olga"]
