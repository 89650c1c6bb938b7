"""Plants honour installer delegations through the one access rule (R-MON-20)."""

from __future__ import annotations

from pathlib import Path

import cloud_gateway.app  # noqa: F401 - the app first, as in the other API tests
from cloud_gateway.accounts.model import Role
from tests.cloud_gateway.plants.test_api import Api
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock


async def _calls(gw: GatewayHarness, login: str, pid: int) -> list[int]:
    async with gw.client() as http:
        assert (await gw.login(http, login)).status == 200
        api = Api(http, await gw.form_token(http, "/portal"))
        return [
            (await api.call("GET", f"/api/v1/plants/{pid}"))[0],
            (await api.call("GET", f"/api/v1/plants/{pid}/inverters"))[0],
            (await api.call("PUT", f"/api/v1/plants/{pid}", {"name": "Mine now"}))[0],
            (await api.call("POST", f"/api/v1/plants/{pid}/inverters", {"serial": "X"}))[0],
            (await api.call("DELETE", f"/api/v1/plants/{pid}"))[0],
        ]


async def test_a_delegated_installer_reads_the_plant_and_an_undelegated_one_does_not(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        await gw.create_account("ina", role=Role.INSTALLER)
        await gw.create_account("ivo", role=Role.INSTALLER)
        async with gw.client() as http:
            await gw.login(http, "anna")
            anna = Api(http, await gw.form_token(http, "/plants/new"))
            status, plant = await anna.call("POST", "/api/v1/plants", {"name": "Dach"})
            assert status == 201
            pid = plant["id"]
            status, _ = await anna.call(
                "POST", "/api/v1/delegations", {"installer": "ina", "plant_id": pid}
            )
            assert status == 201

        # read-only: GETs answer, every change is refused as if the plant did not exist
        assert await _calls(gw, "ina", pid) == [200, 200, 404, 404, 404]
        assert await _calls(gw, "ivo", pid) == [404, 404, 404, 404, 404]
        async with gw.client() as http:
            await gw.login(http, "ina")
            api = Api(http, await gw.form_token(http, "/portal"))
            status, body = await api.call("GET", f"/api/v1/plants/{pid}")
            assert (status, body["name"], body["inverters"]) == (200, "Dach", [])
