"""The fleet's tables on both backends: node heartbeats, reaping the dead, the directory."""

from __future__ import annotations

from datetime import timedelta

from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.fleet.repository import FleetRepository
from cloud_gateway.store import Store
from tunnel.clock import ManualClock


async def _device(store: Store, slug: str, clock: ManualClock) -> int:
    device = await store.repo(DeviceRepository).create(
        slug=slug, kind=DeviceKind.CCU, name=slug, created_at=clock.now()
    )
    return device.id


async def test_claim_moves_a_device_and_release_keeps_a_newer_session(
    store: Store, clock: ManualClock
) -> None:
    repo = store.repo(FleetRepository)
    device = await _device(store, "hub-1", clock)
    await repo.join("a", clock.now(), internal_url="https://a.internal:9443")
    await repo.join("b", clock.now())
    assert await repo.claim(device, "a", "s1", clock.now()) is None
    entry = await repo.locate(device)
    assert entry is not None
    assert (entry.node_id, entry.session_id, entry.internal_url) == (
        "a",
        "s1",
        "https://a.internal:9443",
    )
    # the device reconnects to b: the claim names the older holder
    previous = await repo.claim(device, "b", "s2", clock.now())
    assert previous is not None
    assert (previous.node_id, previous.session_id) == ("a", "s1")
    # a's session ends late: b's row stays
    assert await repo.release(device, "a", "s1") is False
    entry = await repo.locate(device)
    assert entry is not None
    assert entry.node_id == "b"
    assert await repo.release(device, "b", "s2") is True
    assert await repo.locate(device) is None


async def test_a_late_claim_of_an_older_session_leaves_the_newer_row(
    store: Store, clock: ManualClock
) -> None:
    """Regression (issue 18 storm): a claim tried again after the pool timed out overwrote the
    row of the device's newer session on another node, and the fleet lost the device."""
    repo = store.repo(FleetRepository)
    device = await _device(store, "hub-1", clock)
    await repo.join("a", clock.now())
    await repo.join("b", clock.now())
    older = clock.now()  # a's session began first; its claim failed
    clock.advance(timedelta(seconds=2))
    assert await repo.claim(device, "b", "s2", clock.now()) is None  # the device went to b
    clock.advance(timedelta(seconds=1))
    holder = await repo.claim(device, "a", "s1", older)  # a's claim, tried again
    assert holder is not None
    assert (holder.node_id, holder.session_id) == ("b", "s2")
    assert holder.newer_than(older)
    entry = await repo.locate(device)
    assert entry is not None
    assert (entry.node_id, entry.session_id) == ("b", "s2")
    # a session that began later than b's still takes the device over
    clock.advance(timedelta(seconds=1))
    previous = await repo.claim(device, "a", "s3", clock.now())
    assert previous is not None
    assert not previous.newer_than(clock.now())
    entry = await repo.locate(device)
    assert entry is not None
    assert (entry.node_id, entry.session_id) == ("a", "s3")


async def test_a_silent_node_is_reaped_with_its_rows(store: Store, clock: ManualClock) -> None:
    repo = store.repo(FleetRepository)
    one, two = await _device(store, "hub-1", clock), await _device(store, "hub-2", clock)
    await repo.join("a", clock.now())
    await repo.join("b", clock.now())
    await repo.claim(one, "a", "s1", clock.now())
    await repo.claim(two, "b", "s2", clock.now())
    clock.advance(timedelta(seconds=8))
    assert await repo.heartbeat("a", clock.now()) is True
    assert await repo.reap(clock.now(), timedelta(seconds=10)) == []
    clock.advance(timedelta(seconds=3))  # b silent for 11 s, a for 3 s
    assert await repo.reap(clock.now(), timedelta(seconds=10), keep="b") == []  # b reaps
    assert await repo.reap(clock.now(), timedelta(seconds=10)) == ["b"]
    assert [n.node_id for n in await repo.nodes()] == ["a"]
    assert await repo.locate(two) is None
    assert [e.device_id for e in await repo.held_by("a")] == [one]
    # b comes back after a pause: its heartbeat says it must join again
    assert await repo.heartbeat("b", clock.now()) is False


async def test_joining_again_forgets_rows_of_the_earlier_run(
    store: Store, clock: ManualClock
) -> None:
    repo = store.repo(FleetRepository)
    device = await _device(store, "hub-1", clock)
    await repo.join("a", clock.now())
    await repo.claim(device, "a", "s1", clock.now())
    await repo.join("a", clock.now())  # restarted with the same node id
    assert await repo.held_by("a") == []
    await repo.heartbeat("a", clock.now(), draining=True)
    [node] = await repo.nodes()
    assert node.draining is True
    await repo.leave("a")
    assert await repo.nodes() == []


async def test_joining_again_claims_own_tunnels_but_not_a_newer_session_elsewhere(
    store: Store, clock: ManualClock
) -> None:
    repo = store.repo(FleetRepository)
    mine, moved, fresh = [await _device(store, f"hub-{i}", clock) for i in range(3)]
    await repo.join("a", clock.now())
    await repo.join("b", clock.now(), internal_url="b.internal:9443")
    await repo.claim(mine, "a", "s-old", clock.now())
    clock.advance(timedelta(seconds=11))
    await repo.heartbeat("b", clock.now())
    assert await repo.reap(clock.now(), timedelta(seconds=10)) == ["a"]  # a stalled
    await repo.claim(moved, "b", "s-b", clock.now())  # that device came back on b meanwhile
    elsewhere = await repo.rejoin(
        "a",
        clock.now(),
        [(mine, "s1", clock.now()), (moved, "s2", clock.now()), (fresh, "s3", clock.now())],
        internal_url="a.internal:9443",
    )
    assert [(e.device_id, e.node_id, e.session_id, e.internal_url) for e in elsewhere] == [
        (moved, "b", "s-b", "b.internal:9443")
    ]
    assert [(e.device_id, e.session_id) for e in await repo.held_by("a")] == [
        (mine, "s1"),
        (fresh, "s3"),
    ]
    assert await repo.heartbeat("a", clock.now()) is True
    # joining again while the row is there keeps it and refreshes its own claims
    assert await repo.rejoin("a", clock.now(), [(mine, "s4", clock.now())]) == []
    assert [(e.device_id, e.session_id) for e in await repo.held_by("a")] == [
        (mine, "s4"),
        (fresh, "s3"),
    ]


async def test_joining_again_skips_a_device_deleted_meanwhile(
    store: Store, clock: ManualClock
) -> None:
    repo = store.repo(FleetRepository)
    kept = await _device(store, "hub-1", clock)
    await repo.join("a", clock.now())
    await repo.leave("a")
    deleted = kept + 1000  # no such device (deleted while its tunnel was still closing)
    elsewhere = await repo.rejoin(
        "a", clock.now(), [(kept, "s1", clock.now()), (deleted, "s2", clock.now())]
    )
    assert elsewhere == []
    assert [(e.device_id, e.session_id) for e in await repo.held_by("a")] == [(kept, "s1")]
    assert [n.node_id for n in await repo.nodes()] == ["a"]
