"""Entitlements by hand in the console: a real hub package from the catalogue, granted once
per form, ended with a reason, everything in the console audit (R-OPS-2)."""

from __future__ import annotations

from pathlib import Path

from cloud_gateway.accounts.model import Role
from cloud_gateway.entitlements.repository import EntitlementRepository
from cloud_gateway.entitlements.windows import Subject, WindowKind
from cloud_gateway.operator.repository import ConsoleAuditRepository
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from tests.support.console import staff_login
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


async def test_operator_grants_and_ends_a_hub_package(
    tmp_path: Path, clock: ManualClock, db_url: str
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        olga_account = await gw.create_account("olga", role=Role.OPERATOR)
        store = gw.gateway.store
        async with gw.client() as olga:
            token = await staff_login(gw, olga, "olga", clock)
            async with olga.get("/console/entitlements?account=anna") as r:
                page = await r.text()
            assert 'value="hub-comfort|1m"' in page

            form = {
                "csrf_token": token,
                "account": "anna",
                "choice": "hub-comfort|1m",
                "booking": "single",
                "form_key": "form-1",
            }
            async with olga.post("/console/entitlements/package", data=form) as r:
                assert r.status == 422  # no reason
                assert "Bitte einen Grund angeben." in await r.text()
            form["reason"] = "Kulanz nach Ausfall"
            for _ in range(2):  # a double submission grants once
                async with olga.post(
                    "/console/entitlements/package", data=form, allow_redirects=False
                ) as r:
                    assert r.status == 303
            windows = await store.repo(EntitlementRepository).for_subjects(
                (Subject.ACCOUNT, anna.id)
            )
            packages = [s for s in windows if s.window.kind is WindowKind.PACKAGE]
            assert [(s.product, s.window.source) for s in packages] == [
                ("hub-comfort", f"operator:{olga_account.id}")
            ]
            [package] = packages
            assert package.period_days is not None
            assert 28 <= package.period_days <= 31

            end = {"csrf_token": token, "account": "anna", "reason": "Versehen"}
            async with olga.post(
                f"/console/entitlements/{package.window.id}/end", data=end, allow_redirects=False
            ) as r:
                assert r.status == 303
            ended = await store.repo(EntitlementRepository).get(package.window.id or 0)
            assert ended.window.ended_at == clock.now()

            plant = await store.repo(PlantRepository).create(
                anna.id, PlantFields(name="Dach"), clock.now()
            )
            licence = {
                "csrf_token": token,
                "account": "anna",
                "plant": str(plant.id),
                "choice": "plant-monitoring|365d",
                "power_w": "9800",
                "form_key": "form-2",
                "reason": "Ersatz für defekte Lizenz",
            }
            async with olga.post(
                "/console/entitlements/licence", data=licence, allow_redirects=False
            ) as r:
                assert r.status == 303
            [granted] = await store.repo(EntitlementRepository).for_subjects(
                (Subject.PLANT, plant.id)
            )
            assert granted.window.kind is WindowKind.LICENCE
            assert (granted.window.licensed_power_w, granted.period_days) == (9800, 365)
            # the page names kinds and subjects in the reader's language, not by their codes
            async with olga.get("/console/entitlements?account=anna") as r:
                page = await r.text()
            assert 'data-kind="licence">Lizenz</td>' in page
            assert f'data-subject="plant">Anlage {plant.id}</td>' in page
            assert 'data-kind="package">Paket</td>' in page
            async with olga.get("/console/accounts?q=anna&lang=en") as r:
                assert 'data-role="customer">Plant owner</td>' in await r.text()

        entries = await store.repo(ConsoleAuditRepository).recent(target="anna")
        assert [(e.action, e.reason, e.operator) for e in entries] == [
            ("entitlement.licence", "Ersatz für defekte Lizenz", "olga"),
            ("entitlement.end", "Versehen", "olga"),
            ("entitlement.package", "Kulanz nach Ausfall", "olga"),
            ("entitlement.package", "Kulanz nach Ausfall", "olga"),
        ]
