"""Security review item 10 (rest): the start page names no version, and the OpenAPI document
lists the answers the routes really give (204 for deletions, 400 from the malformed-input
boundary, 402 for a plant's data without trial or licence).

Each answer below is taken from a real request and looked up in the document.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cloud_gateway.app import software_version
from cloud_gateway.plants.activation import expected_code
from simulator.inverter.activation import DEMO_MANUFACTURER_KEY
from tests.reliability.report import record
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


async def test_start_page_names_no_version_and_the_document_lists_real_answers(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as anonymous, anonymous.get("/") as resp:
            start = await resp.text()
        answers: list[tuple[str, str, int]] = []
        async with gw.client() as http:
            await gw.login(http, "anna")
            csrf = {"X-CSRF-Token": await gw.form_token(http, "/plants/new")}

            async def call(
                method: str,
                template: str,
                path: str,
                headers: dict[str, str] | None = None,
                **kw: Any,
            ) -> Any:
                sent = csrf | (headers or {})
                async with http.request(method, path, headers=sent, **kw) as resp:
                    answers.append((method.lower(), template, resp.status))
                    return None if resp.status == 204 else await resp.json()

            plant = await call("POST", "/api/v1/plants", "/api/v1/plants", json={"name": "P"})
            pid = plant["id"]
            await call(
                "POST",
                "/api/v1/plants",
                "/api/v1/plants",
                {"Content-Type": "application/json"},
                data=b"{",
            )
            await call(
                "GET", "/api/v1/plants/{plant_id}/readings", f"/api/v1/plants/{pid}/readings"
            )
            serial = "SN-DOC-1"
            code = expected_code(serial, DEMO_MANUFACTURER_KEY)
            inverter = await call(
                "POST",
                "/api/v1/plants/{plant_id}/inverters",
                f"/api/v1/plants/{pid}/inverters",
                json={"serial": serial, "activation_code": code},
            )
            await call(
                "DELETE", "/api/v1/inverters/{inverter_id}", f"/api/v1/inverters/{inverter['id']}"
            )
            await call("DELETE", "/api/v1/plants/{plant_id}", f"/api/v1/plants/{pid}")
            async with http.get("/api/v1/openapi.json") as resp:
                doc = await resp.json()
    version = software_version()
    undocumented = [
        (method, path, status)
        for method, path, status in answers
        if str(status) not in doc["paths"][path][method]["responses"]
    ]
    without_400 = [
        (method, path)
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        if "400" not in operation["responses"]
    ]
    statuses = sorted({status for _, _, status in answers})
    discloses = version in start or re.search(r"\bv\d+\.\d+", start) is not None
    passed = not undocumented and not without_400 and not discloses and 402 in statuses
    record(
        "openapi_answers",
        f"{len(answers)} real answers ({', '.join(map(str, statuses))}) all documented; "
        f"{len(doc['paths'])} paths list 400; start page without version",
        passed=passed,
    )
    assert not discloses
    assert undocumented == []
    assert without_400 == []
    assert {204, 400, 402} <= set(statuses)
