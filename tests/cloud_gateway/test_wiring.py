"""The composition's tunnel state hooks (both backends)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import Window
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import LiveTunnel
from cloud_gateway.wiring import package_sender
from tunnel.clock import ManualClock


class _CountingEntitlements(EntitlementService):
    reads = 0

    async def account_windows(self, account_id: int, device_id: int | None = None) -> list[Window]:
        self.reads += 1
        return await super().account_windows(account_id, device_id)


@dataclass
class _Session:
    sent: list[dict[str, object]] = field(default_factory=list)

    async def send_control(self, body: dict[str, object]) -> None:
        self.sent.append(dict(body))


@dataclass
class _Tunnel:
    device: Device
    session: _Session
    decision: object = None


async def test_the_package_view_uses_the_windows_of_the_decision(
    store: Store, clock: ManualClock
) -> None:
    account = await store.repo(AccountRepository).create(
        username="anna", email="anna@example.org", password_hash="h", created_at=clock.now()
    )
    device = await store.repo(DeviceRepository).create(
        slug="ccu-anna", kind=DeviceKind.CCU, created_at=clock.now(), account_id=account.id
    )
    entitlements = _CountingEntitlements(store, clock)
    send = package_sender(store, entitlements, clock)
    tunnel = _Tunnel(device, _Session())
    await send(cast(LiveTunnel, tunnel))  # no decision known: the windows are read
    assert entitlements.reads == 1
    tunnel.decision = await entitlements.decide(device, clock.now())
    assert entitlements.reads == 2
    await send(cast(LiveTunnel, tunnel))  # read once per decision: not again
    assert entitlements.reads == 2
    assert len(tunnel.session.sent) == 2
    assert tunnel.session.sent[0] == tunnel.session.sent[1]
    assert tunnel.session.sent[1]["type"] == "packages"
