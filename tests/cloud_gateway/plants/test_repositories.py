"""Plant and inverter repositories on SQLite and PostgreSQL: tenant checks, trial start, swap."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from cloud_gateway.errors import ConflictError, NotFoundError
from cloud_gateway.plants.model import PlantFields, PlantType
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.store import Store
from tests.cloud_gateway.plants.helpers import account, plant
from tunnel.clock import ManualClock


async def test_plants_roundtrip_and_belong_to_their_account(
    store: Store, clock: ManualClock
) -> None:
    anna, bert = await account(store, clock, "anna"), await account(store, clock, "bert")
    fields = PlantFields(
        name="Dach",
        latitude=48.5,
        longitude=9.2,
        feed_in_tariff_ct=Decimal("8.110"),
        plant_type=PlantType.PV_THERMAL,
        public=True,
    )
    created = await store.repo(PlantRepository).create(anna.id, fields, clock.now())
    assert created.fields == fields
    assert await store.repo(PlantRepository).get(created.id, anna.id) == created
    assert await store.repo(PlantRepository).list_for_account(anna.id) == [created]
    with pytest.raises(NotFoundError):
        await store.repo(PlantRepository).get(created.id, bert.id)
    with pytest.raises(NotFoundError):
        await store.repo(PlantRepository).update(created.id, bert.id, PlantFields(name="x"))
    with pytest.raises(NotFoundError):
        await store.repo(PlantRepository).delete(created.id, bert.id)
    updated = await store.repo(PlantRepository).update(created.id, anna.id, PlantFields(name="Neu"))
    assert updated.fields.name == "Neu"
    await store.repo(PlantRepository).delete(created.id, anna.id)
    assert await store.repo(PlantRepository).list_for_account(anna.id) == []


async def test_first_inverter_starts_the_trial_and_serials_are_unique(
    store: Store, clock: ManualClock
) -> None:
    anna, bert = await account(store, clock, "anna"), await account(store, clock, "bert")
    mine = await plant(store, clock, anna)
    assert mine.trial_started_at is None
    first = await store.repo(InverterRepository).add(
        plant_id=mine.id, account_id=anna.id, serial="SN-1", name="Ost", now=clock.now()
    )
    started = clock.now()
    clock.advance(timedelta(days=3))
    await store.repo(InverterRepository).add(
        plant_id=mine.id, account_id=anna.id, serial="SN-2", name="", now=clock.now()
    )
    assert (await store.repo(PlantRepository).get(mine.id, anna.id)).trial_started_at == started
    assert first.nominal_power_w is None
    assert first.counted_power_w == 20_000
    theirs = await plant(store, clock, bert)
    with pytest.raises(ConflictError):
        await store.repo(InverterRepository).add(
            plant_id=theirs.id, account_id=bert.id, serial="SN-1", name="", now=clock.now()
        )
    with pytest.raises(NotFoundError):
        await store.repo(InverterRepository).add(
            plant_id=mine.id, account_id=bert.id, serial="SN-9", name="", now=clock.now()
        )
    assert [
        i.serial for i in await store.repo(InverterRepository).list_for_plant(mine.id, anna.id)
    ] == [
        "SN-1",
        "SN-2",
    ]
    with pytest.raises(NotFoundError):
        await store.repo(InverterRepository).list_for_plant(mine.id, bert.id)


async def test_edit_swap_and_delete_check_the_tenant(store: Store, clock: ManualClock) -> None:
    anna, bert = await account(store, clock, "anna"), await account(store, clock, "bert")
    mine = await plant(store, clock, anna)
    inv = await store.repo(InverterRepository).add(
        plant_id=mine.id, account_id=anna.id, serial="SN-1", name="", now=clock.now()
    )
    other = await store.repo(InverterRepository).add(
        plant_id=mine.id, account_id=anna.id, serial="SN-2", name="", now=clock.now()
    )
    for call in (
        store.repo(InverterRepository).get(inv.id, bert.id),
        store.repo(InverterRepository).rename(inv.id, bert.id, "x"),
        store.repo(InverterRepository).swap(inv.id, bert.id, "SN-3", clock.now()),
        store.repo(InverterRepository).delete(inv.id, bert.id),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert (await store.repo(InverterRepository).rename(inv.id, anna.id, "Süd")).name == "Süd"
    swapped = await store.repo(InverterRepository).swap(inv.id, anna.id, "SN-3", clock.now())
    assert (swapped.id, swapped.plant_id, swapped.serial, swapped.name) == (
        inv.id,
        mine.id,
        "SN-3",
        "Süd",
    )
    with pytest.raises(ConflictError):
        await store.repo(InverterRepository).swap(inv.id, anna.id, "SN-2", clock.now())
    await store.repo(InverterRepository).delete(other.id, anna.id)
    assert not await store.repo(InverterRepository).serial_registered("SN-2")
    assert await store.repo(InverterRepository).serial_registered("SN-3")


async def test_activation_failures_are_counted_per_account_and_address_in_a_window(
    store: Store, clock: ManualClock
) -> None:
    anna, bert = await account(store, clock, "anna"), await account(store, clock, "bert")
    repo = store.repo(InverterRepository)
    await repo.record_activation_failure(anna.id, clock.now(), source_address="192.0.2.1")
    clock.advance(timedelta(minutes=10))
    await repo.record_activation_failure(anna.id, clock.now(), source_address="192.0.2.1")
    await repo.record_activation_failure(bert.id, clock.now(), source_address="192.0.2.2")
    now, since = clock.now(), clock.now() - timedelta(minutes=5)
    assert await repo.activation_failures_since(anna.id, "192.0.2.1", since) == ([now], [now])
    # bert's own failure, and anna's from the address he now types at
    assert await repo.activation_failures_since(bert.id, "192.0.2.1", since) == ([now], [now])
    assert await repo.activation_failures_since(bert.id, "198.51.100.9", since) == ([now], [])
