"""The products page offers the contract documents mailed with a licence order (R-POR-3),
to the ordering account only."""

from __future__ import annotations

from pathlib import Path

from cloud_gateway.http.keys import LICENCES
from cloud_gateway.i18n import Language
from cloud_gateway.licences.quote import LicenceTerm
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from tests.cloud_gateway.licences.conftest import set_nameplate
from tests.cloud_gateway.shop.shopping import give_customer_data
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


async def test_licence_terms_are_on_the_products_page_for_the_owner_only(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await gw.create_account("bert")
        await give_customer_data(gw, anna.id, "Anna Sonne")
        store = gw.gateway.store
        plant = await store.repo(PlantRepository).create(
            anna.id, PlantFields(name="Scheune"), clock.now()
        )
        await store.repo(InverterRepository).add(
            plant_id=plant.id, account_id=anna.id, serial="SCH0001", name="", now=clock.now()
        )
        await set_nameplate(store, anna.id, "SCH0001", 8000, clock.now())
        placed = await gw.gateway.runner.app[LICENCES].order(
            account_id=anna.id, plant_ids=[plant.id], term=LicenceTerm.DAYS_365,
            language=Language.DE, key="order-1",
        )  # fmt: skip

        async with gw.client() as http:
            await gw.login(http, "anna")
            async with http.get("/portal/products") as resp:
                page = await resp.text()
            assert f"Vertragsbedingungen-A-{placed.order_id}.pdf" in page
            contract = page.split('class="contract-paper" href="', 1)[1].split('"', 1)[0]
            async with http.get(contract) as resp:
                assert resp.status == 200
                assert resp.content_type == "application/pdf"
                assert (await resp.read()).startswith(b"%PDF")
            async with http.get(contract.rsplit("/", 1)[0] + "/7") as resp:
                assert resp.status == 404  # no such document of the contract
        async with gw.client() as http:
            await gw.login(http, "bert")
            async with http.get(contract) as resp:
                assert resp.status == 404  # another account's contract is not revealed
            async with http.get("/portal/products") as resp:
                assert "Vertragsbedingungen" not in await resp.text()
