"""The demo installer can buy a licence for the demo plant (customer data set once)."""

from __future__ import annotations

from pathlib import Path

from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.http.keys import LICENCES
from cloud_gateway.i18n import Language
from cloud_gateway.licences.quote import LicenceTerm
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from simulator.demo_gateway import INSTALLER, PLANT_NAME, ensure_account
from simulator.demo_licence import ensure_licence_buyer
from tests.cloud_gateway.billing.conftest import validate_documents
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


async def test_the_demo_installer_can_order_a_licence(tmp_path: Path, clock: ManualClock) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        installer = await ensure_account(gw.gateway, INSTALLER, clock)
        licences = gw.gateway.runner.app[LICENCES]
        assert await licences.refusal(installer.id) is not None  # no customer data yet
        await ensure_licence_buyer(gw.gateway, installer, clock)
        first = await gw.gateway.store.repo(CustomerRepository).get(installer.id)
        clock.advance(60)
        await ensure_licence_buyer(gw.gateway, installer, clock)  # a second run: unchanged
        assert await gw.gateway.store.repo(CustomerRepository).get(installer.id) == first
        assert await licences.refusal(installer.id) is None
        plant = await gw.gateway.store.repo(PlantRepository).create(
            installer.id, PlantFields(name=PLANT_NAME), clock.now()
        )
        await gw.gateway.store.repo(InverterRepository).add(
            plant_id=plant.id, account_id=installer.id, serial="DEMO0001", name="",
            now=clock.now(),
        )  # fmt: skip
        placed = await licences.order(
            account_id=installer.id, plant_ids=[plant.id], term=LicenceTerm.DAYS_365,
            language=Language.DE, key="demo",
        )  # fmt: skip
        assert placed.quote.gross == 10591  # its type not reported yet: 20,000 W
        assert await validate_documents(gw.gateway.store) == 1
