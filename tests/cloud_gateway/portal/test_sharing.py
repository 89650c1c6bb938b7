"""Sharing (R-MON-20): the owner grants an installer a plant on the page, the installer sees it
read-only in his plant list, the owner revokes it after a confirmation."""

from __future__ import annotations

import re
from pathlib import Path

from cloud_gateway.accounts.model import Role
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from tests.cloud_gateway.portal.support import accept_terms, logged_in, text_of
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


async def test_owner_shares_a_plant_read_only_and_revokes_it(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        ivo = await gw.create_account("ivo", role=Role.INSTALLER)
        bert = await gw.create_account("bert")
        for account in (anna, ivo, bert):
            await accept_terms(gw, account.id)
        plants = gw.gateway.store.repo(PlantRepository)
        dach = await plants.create(anna.id, PlantFields(name="Dach"), clock.now())
        scheune = await plants.create(anna.id, PlantFields(name="Scheune"), clock.now())

        async with logged_in(gw, "anna") as owner:
            # a customer is no installer: refused clearly, the typed name kept
            refused = {"csrf_token": owner.token, "installer": "bert", "plant_id": str(dach.id)}
            async with owner.http.post("/portal/sharing", data=refused) as resp:
                html = await resp.text()
            assert resp.status == 422
            assert "keinen Installateur" in text_of(html)
            assert 'value="bert"' in html
            # another owner's plant id is refused too
            foreign = {**refused, "installer": "ivo", "plant_id": "999999"}
            async with owner.http.post("/portal/sharing", data=foreign) as resp:
                assert resp.status == 422
            granted = {**refused, "installer": "ivo"}
            async with owner.http.post("/portal/sharing", data=granted) as resp:
                html = await resp.text()
            assert resp.url.path == "/portal/sharing"
            assert 'id="sharing-notice"' in html
            grant = re.search(r'data-grant="(\d+)"><td>ivo</td><td>Dach</td>', html)
            assert grant is not None

        async with logged_in(gw, "ivo") as installer:
            async with installer.http.get("/portal") as resp:
                overview = await resp.text()
            assert 'id="overview-shared"' in overview
            assert "Dach" in text_of(overview)
            async with installer.http.get("/plants") as resp:
                listing = await resp.text()
            assert 'id="shared-plants"' in listing
            assert f'href="/plants/{dach.id}"' in listing
            assert f'href="/plants/{scheune.id}"' not in listing
            async with installer.http.get(f"/plants/{dach.id}") as resp:
                page = await resp.text()
            assert resp.status == 200
            assert "Freigegeben von anna" in text_of(page)
            assert 'id="delete-plant"' not in page
            assert 'id="add-inverter"' not in page
            for path in (f"/plants/{scheune.id}", f"/plants/{dach.id}/edit"):
                async with installer.http.get(path) as resp:
                    assert resp.status == 404, path
            form = {"csrf_token": installer.token, "confirmed": "yes"}
            async with installer.http.post(f"/plants/{dach.id}/delete", data=form) as resp:
                assert resp.status == 404
            # the installer cannot end the owner's grant
            async with installer.http.get(f"/portal/sharing/{grant.group(1)}/revoke") as resp:
                assert resp.status == 404
        assert await plants.get(dach.id, anna.id)

        async with logged_in(gw, "anna") as owner:
            revoke = f"/portal/sharing/{grant.group(1)}/revoke"
            async with owner.http.get(revoke) as resp:
                question = await resp.text()
            assert 'id="confirm-question"' in question
            async with owner.http.post(revoke, data={"csrf_token": owner.token}) as resp:
                html = await resp.text()
            assert 'id="grants-given-empty"' in html
            assert "Freigabe beendet" in text_of(html)

        async with logged_in(gw, "ivo") as installer:
            async with installer.http.get(f"/plants/{dach.id}") as resp:
                assert resp.status == 404
            async with installer.http.get("/plants") as resp:
                assert 'id="shared-plants"' not in await resp.text()
