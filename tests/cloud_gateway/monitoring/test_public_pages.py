"""The public list and map through the running gateway: no login, only allowed fields."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from cloud_gateway.monitoring.public import PublicPlant
from tests.cloud_gateway.plants.test_api import code, logged_in
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

SECRET = "Geheimhof-Zeta"
FIELDS = {f.name for f in fields(PublicPlant)}  # pinned in test_public.py


async def test_only_public_licensed_plants_and_only_allowed_fields(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with logged_in(gw, "anna") as anna:
            for serial, (name, public, town, postcode) in enumerate(
                (
                    ("Sonnenhof Nord", True, "Kiel", "24103"),
                    ("Sonnenhof Süd", True, "München", "80331"),
                    (SECRET, False, "Geheimstadt", "99999"),
                ),
                1,
            ):
                _, plant = await anna.call(
                    "POST",
                    "/api/v1/plants",
                    {
                        "name": name,
                        "description": f"{name} description",
                        "public": public,
                        "town": town,
                        "postcode": postcode,
                        "latitude": 54.323456 if town == "Kiel" else 48.137154,
                        "longitude": 10.139872 if town == "Kiel" else 11.575382,
                        "module_area_m2": 50,
                        "tilt_deg": 30,
                        "azimuth_deg": 180,
                    },
                )
                sn = f"SN-PUB-{serial}"
                body = {"serial": sn, "activation_code": code(sn), "name": f"{name} WR"}
                status, _ = await anna.call("POST", f"/api/v1/plants/{plant['id']}/inverters", body)
                assert status == 201
            # public, but no inverter: no trial, no licence, not shown (R-MON-16)
            await anna.call(
                "POST", "/api/v1/plants", {"name": "Ohne Lizenz", "public": True, "town": "Trier"}
            )

        async with gw.client() as http:  # no login
            async with http.get("/") as resp:
                assert 'href="/public/plants"' in await resp.text()
            async with http.get("/public/plants?format=json&sort=town&order=asc") as resp:
                assert resp.status == 200
                data = await resp.json()
                raw_json = await resp.text()
            async with http.get("/public/plants?sort=town&order=asc") as resp:
                html = await resp.text()
            async with http.get("/public/map") as resp:
                assert resp.status == 200
                svg_page = await resp.text()
            async with http.get("/public/plants?format=json&per_page=1&page=2") as resp:
                second = await resp.json()

    assert data["total"] == 2
    assert [p["town"] for p in data["plants"]] == ["Kiel", "München"]
    assert all(set(p) == FIELDS for p in data["plants"])
    assert data["plants"][0]["latitude"] == 54.32  # rounded to about 1 km
    assert data["plants"][0]["generator_w"] == 10_000.0
    assert html.index("Kiel") < html.index("München")
    assert svg_page.count('class="marker"') == 2
    assert (second["page"], second["pages"], len(second["plants"])) == (2, 2, 1)
    for text in (raw_json, html, svg_page):
        for leak in (SECRET, "Geheimstadt", "Sonnenhof", "description", "anna", "Trier", "SN-PUB"):
            assert leak not in text
