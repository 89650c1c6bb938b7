"""Security review items 5 (rest) and 9: the JSON boundary checks types, ids, dates, subjects.

``{"name": NaN}`` or a list became a plant named "nan" / "['a']", ``{"name": null}`` renamed an
inverter "None", ``public: "maybe"`` was taken, delegations were stored for plants the caller
does not own and for negative or boolean ids, operator grants for missing accounts (an
``IntegrityError`` 500), hubs and plants were stored; ids of 2^63 in bodies overflowed and
days 0001-01-01 / 9999-12-31 overflowed the day arithmetic. Each now gets a clear 4xx (422
for a value of the wrong type or naming nothing), and nothing is stored.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from cloud_gateway.accounts.model import Role
from cloud_gateway.entitlements.repository import EntitlementRepository
from cloud_gateway.entitlements.windows import Subject
from cloud_gateway.plants.activation import expected_code
from cloud_gateway.plants.repository import PlantRepository
from simulator.inverter.activation import DEMO_MANUFACTURER_KEY
from tests.reliability.report import record
from tests.support.console import staff_login
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock

BAD_IDS: list[object] = [-1, 0, True, False, 1.5, "1", 2**63, 2**64, 2**31]
"""Ids that name no row: each must be refused, never overflow or be cast."""


async def _call(
    http: aiohttp.ClientSession, csrf: str, method: str, path: str, body: object = None
) -> tuple[int, Any]:
    async with http.request(method, path, json=body, headers={"X-CSRF-Token": csrf}) as resp:
        data = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, data


async def _session(gw: GatewayHarness, http: aiohttp.ClientSession, login: str) -> str:
    await gw.login(http, login)
    return await gw.form_token(http, "/portal")


async def test_wrongly_typed_json_is_refused_not_stringified(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        bert = await gw.create_account("bert")
        await gw.create_account("ina", role=Role.INSTALLER)
        await gw.create_account("olga", role=Role.OPERATOR)
        answers: dict[str, int] = {}
        async with gw.client() as http:
            csrf = await _session(gw, http, "anna")
            _, plant = await _call(http, csrf, "POST", "/api/v1/plants", {"name": "Dach"})
            pid = plant["id"]
            serial = "SN-TYPE-1"
            status, inverter = await _call(
                http,
                csrf,
                "POST",
                f"/api/v1/plants/{pid}/inverters",
                {"serial": serial, "activation_code": expected_code(serial, DEMO_MANUFACTURER_KEY)},
            )
            assert status == 201, inverter
            names: list[object] = [float("nan"), ["a"], {"a": 1}, None, 5, True]
            for name in names:
                answers[f"plant name {name!r}"] = (
                    await _call(http, csrf, "POST", "/api/v1/plants", {"name": name})
                )[0]
                answers[f"inverter name {name!r}"] = (
                    await _call(
                        http, csrf, "PATCH", f"/api/v1/inverters/{inverter['id']}", {"name": name}
                    )
                )[0]
            for public in ("maybe", 2, ["x"]):
                answers[f"public {public!r}"] = (
                    await _call(
                        http, csrf, "POST", "/api/v1/plants", {"name": "P", "public": public}
                    )
                )[0]
            answers["plant type list"] = (
                await _call(
                    http, csrf, "POST", "/api/v1/plants", {"name": "P", "plant_type": ["pv"]}
                )
            )[0]
            bert_plant = await gw.gateway.store.repo(PlantRepository).list_for_account(bert.id)
            assert bert_plant == []
            _, other = await _session_plant(gw, "bert")
            for plant_id in [*BAD_IDS, other]:
                answers[f"delegation plant {plant_id!r}"] = (
                    await _call(
                        http,
                        csrf,
                        "POST",
                        "/api/v1/delegations",
                        {"installer": "ina", "plant_id": plant_id},
                    )
                )[0]
            for device_id in BAD_IDS:
                answers[f"delegation device {device_id!r}"] = (
                    await _call(
                        http,
                        csrf,
                        "POST",
                        "/api/v1/delegations",
                        {"installer": "ina", "device_id": device_id},
                    )
                )[0]
            for day in ("0001-01-01", "9999-12-31"):
                async with http.get(f"/api/v1/plants/{pid}/readings?date={day}") as resp:
                    answers[f"readings day {day}"] = resp.status
            _, listed = await _call(http, csrf, "GET", "/api/v1/delegations")
            _, inverter_now = await _call(http, csrf, "GET", f"/api/v1/inverters/{inverter['id']}")
        async with gw.client() as http:
            csrf = await staff_login(gw, http, "olga", clock)
            now = clock.now()
            span = {"start": now.isoformat(), "end": (now + timedelta(days=1)).isoformat()}
            grants: list[tuple[str, object, dict[str, str]]] = [
                ("account", 999_999, span),
                ("hub", 999_999, span),
                ("plant", 999_999, span),
                ("service", 999_999, span),
                *[("account", bad, span) for bad in BAD_IDS],
                ("account", bert.id, {"start": "0001-01-01T00:00:00+00:00", "end": span["end"]}),
                ("account", bert.id, {"start": span["start"], "end": "9999-12-31T23:59:59+00:00"}),
            ]
            for subject, subject_id, when in grants:
                answers[f"grant {subject} {subject_id!r} {when['start'][:4]}-{when['end'][:4]}"] = (
                    await _call(
                        http,
                        csrf,
                        "POST",
                        "/api/v1/windows",
                        {"subject": subject, "subject_id": subject_id, "note": "x", **when},
                    )
                )[0]
        stored = await gw.gateway.store.repo(EntitlementRepository).for_subjects(
            (Subject.ACCOUNT, bert.id), (Subject.HUB, 999_999), (Subject.PLANT, 999_999)
        )
    refused = {name: status for name, status in answers.items() if 400 <= status < 500}
    not_refused = {name: status for name, status in answers.items() if name not in refused}
    wrong_type = {
        name: status
        for name, status in answers.items()
        if status != 422 and "0001" not in name and "9999" not in name  # days: 400
    }
    passed = not not_refused and not stored and listed["given"] == []
    record(
        "input_typing",
        f"{len(refused)} of {len(answers)} wrongly typed or dangling inputs refused with 4xx "
        f"({sum(1 for s in answers.values() if s == 422)} with 422); nothing stored",
        passed=passed,
    )
    assert not_refused == {}
    assert wrong_type == {}
    assert stored == []
    assert listed["given"] == []
    assert inverter_now["name"] == ""


async def _session_plant(gw: GatewayHarness, login: str) -> tuple[str, int]:
    """A plant of ``login``'s own (made through the API), for a foreign-plant delegation."""
    async with gw.client() as http:
        csrf = await _session(gw, http, login)
        _, plant = await _call(http, csrf, "POST", "/api/v1/plants", {"name": "Fremd"})
        return csrf, int(plant["id"])
