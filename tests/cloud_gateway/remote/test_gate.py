"""The per-request checks of device hosts: what they decide and how long they are reused.

No tunnel is live on these gates, so a request that passes every check ends at
``Denial.OFFLINE`` (the last check); the e2e tests proxy through real tunnels.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.config import RemoteAccessConfig
from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.api import Decision, DeviceEntitlementPolicy, OperatorFlagPolicy
from cloud_gateway.remote.gate import Denial, RemoteGate
from cloud_gateway.remote.ledger import TrafficLedger
from cloud_gateway.remote.repository import RemoteAccessRepository
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import TunnelRegistry
from tests.cloud_gateway.remote.support import Hub, counting_statements, make_hub, start_session
from tunnel.clock import ManualClock
from tunnel.frame_types import RefusalReason

PASSED = Denial.OFFLINE
"""Every check passed; only the tunnel is missing."""
TOKEN = "t" * 64
CONFIG = RemoteAccessConfig()


def _gate(
    store: Store, clock: ManualClock, policy: DeviceEntitlementPolicy | None = None
) -> RemoteGate:
    chosen = policy or OperatorFlagPolicy()
    return RemoteGate(
        store=store,
        clock=clock,
        policy=chosen,
        tunnels=TunnelRegistry(store, clock, OperatorFlagPolicy()),
        config=CONFIG,
        ledger=TrafficLedger(store.repo(RemoteAccessRepository), clock),
    )


async def _seconds_until_refused(gate: RemoteGate, clock: ManualClock, slug: str) -> float:
    start = clock.now()
    while (answer := await gate.check(TOKEN, slug)) is PASSED:
        assert clock.now() - start < timedelta(seconds=60), "never refused"
        clock.advance(0.25)
    assert answer is not PASSED
    return (clock.now() - start).total_seconds()


async def _ended(store: Store, hub: Hub) -> bool:
    [row] = await store.repo(RemoteAccessRepository).list_sessions(device_id=hub.device.id)
    return row.ended_at is not None


async def test_owner_passes_and_a_cached_answer_needs_no_database(
    store: Store, clock: ManualClock
) -> None:
    hub = await make_hub(store, clock)
    await start_session(store, clock, hub.owner, hub.device, TOKEN)
    gate = _gate(store, clock)
    assert await gate.check(TOKEN, hub.device.slug) is PASSED
    with counting_statements(store) as statements:
        for _ in range(20):
            assert await gate.check(TOKEN, hub.device.slug) is PASSED
        assert statements == []
        clock.advance(CONFIG.access_recheck_s)
        assert await gate.check(TOKEN, hub.device.slug) is PASSED
        assert statements  # checked again after access_recheck_s
    assert await gate.check(TOKEN, "ccu-other") is Denial.NOT_LOGGED_IN
    assert await gate.check("u" * 64, hub.device.slug) is Denial.NOT_LOGGED_IN


async def test_unannounced_entitlement_loss_is_enforced_within_5_s(
    store: Store, clock: ManualClock
) -> None:
    hub = await make_hub(store, clock)
    await start_session(store, clock, hub.owner, hub.device, TOKEN)
    gate = _gate(store, clock)
    assert await gate.check(TOKEN, hub.device.slug) is PASSED
    await store.repo(DeviceRepository).set_disabled(
        hub.device.slug, disabled=True
    )  # nobody is told
    assert await _seconds_until_refused(gate, clock, hub.device.slug) <= 5
    assert await gate.check(TOKEN, hub.device.slug) is Denial.NOT_ENTITLED
    assert not await _ended(store, hub)  # booking again brings the session back


async def test_announced_entitlement_change_is_enforced_at_once(
    store: Store, clock: ManualClock
) -> None:
    hub = await make_hub(store, clock)
    await start_session(store, clock, hub.owner, hub.device, TOKEN)
    gate = _gate(store, clock)
    assert await gate.check(TOKEN, hub.device.slug) is PASSED
    await store.repo(DeviceRepository).set_disabled(hub.device.slug, disabled=True)
    await gate.entitlement_changed(hub.device.id)  # what the entitlement service calls
    assert await gate.check(TOKEN, hub.device.slug) is Denial.NOT_ENTITLED
    await store.repo(DeviceRepository).set_disabled(hub.device.slug, disabled=False)
    await gate.entitlement_changed(hub.device.id)
    assert await gate.check(TOKEN, hub.device.slug) is PASSED


class _EndsAt:
    """Entitled until ``end``, then not."""

    def __init__(self, end: datetime) -> None:
        self.end = end

    async def decide(self, device: Device, at: datetime) -> Decision:
        del device
        if at < self.end:
            return Decision(entitled=True, until=self.end)
        return Decision(entitled=False, reason=RefusalReason.EXPIRED)


async def test_a_known_entitlement_end_is_not_cached_past(store: Store, clock: ManualClock) -> None:
    hub = await make_hub(store, clock)
    await start_session(store, clock, hub.owner, hub.device, TOKEN)
    gate = _gate(store, clock, _EndsAt(clock.now() + timedelta(seconds=0.5)))
    assert await gate.check(TOKEN, hub.device.slug) is PASSED
    clock.advance(0.5)
    assert await gate.check(TOKEN, hub.device.slug) is Denial.NOT_ENTITLED


async def test_installer_needs_a_delegation_of_the_device(store: Store, clock: ManualClock) -> None:
    hub = await make_hub(store, clock)
    slug, owner, installer = hub.device.slug, hub.owner.id, hub.installer.id
    # a plant delegation (here: all plants) lets Ivo monitor, not open the hub
    await store.repo(CustomerRepository).delegate(owner, installer, None, clock.now())
    await start_session(store, clock, hub.installer, hub.device, TOKEN)
    assert await _gate(store, clock).check(TOKEN, slug) is Denial.NOT_YOURS
    assert await _ended(store, hub)


async def test_delegated_installer_passes_until_the_delegation_is_revoked(
    store: Store, clock: ManualClock
) -> None:
    hub = await make_hub(store, clock)
    delegation = await store.repo(CustomerRepository).delegate(
        hub.owner.id, hub.installer.id, None, clock.now(), device_id=hub.device.id
    )
    await start_session(store, clock, hub.installer, hub.device, TOKEN)
    gate = _gate(store, clock)
    assert await gate.check(TOKEN, hub.device.slug) is PASSED
    await store.repo(CustomerRepository).revoke(delegation.id, clock.now())
    assert await _seconds_until_refused(gate, clock, hub.device.slug) <= 5
    assert await _ended(store, hub)
    assert await gate.check(TOKEN, hub.device.slug) in {Denial.NOT_YOURS, Denial.NOT_LOGGED_IN}


async def test_an_idle_session_ends_with_its_traffic_written(
    store: Store, clock: ManualClock
) -> None:
    hub = await make_hub(store, clock)
    session = await start_session(store, clock, hub.owner, hub.device, TOKEN)
    gate = _gate(store, clock)
    assert await gate.check(TOKEN, hub.device.slug) is PASSED
    gate.ledger.record(session.id, now=clock.now(), to_device=7, from_device=9)
    clock.advance(CONFIG.session_idle_s + 1)
    assert await gate.check(TOKEN, hub.device.slug) is Denial.NOT_LOGGED_IN
    [row] = await store.repo(RemoteAccessRepository).list_sessions(device_id=hub.device.id)
    assert row.ended_at == clock.now()
    assert (row.requests, row.bytes_to_device, row.bytes_from_device) == (1, 7, 9)
