"""Destructive actions ask first and say what happened afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_gateway.errors import NotFoundError
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from tests.cloud_gateway.portal.support import accept_terms, logged_in, text_of
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


async def test_deleting_a_plant_asks_first_then_confirms(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await accept_terms(gw, anna.id)
        plants = gw.gateway.store.repo(PlantRepository)
        plant = await plants.create(anna.id, PlantFields(name="Scheune"), clock.now())
        async with logged_in(gw, "anna") as browser:
            form = {"csrf_token": browser.token}
            async with browser.http.post(f"/plants/{plant.id}/delete", data=form) as resp:
                html = await resp.text()
            assert resp.status == 200
            assert "Anlage „Scheune“ mit allen Wechselrichtern" in text_of(html)
            assert f'href="/plants/{plant.id}"' in html  # "Abbrechen" goes back
            assert (await plants.get(plant.id, anna.id)).fields.name == "Scheune"

            confirmed = {**form, "confirmed": "yes"}
            async with browser.http.post(f"/plants/{plant.id}/delete", data=confirmed) as resp:
                html = await resp.text()
            assert resp.url.path == "/plants"
            assert "Die Anlage wurde gelöscht." in text_of(html)
        with pytest.raises(NotFoundError):
            await plants.get(plant.id, anna.id)
