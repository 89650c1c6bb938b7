"""An operator publishes a new version of the terms of use: the customer's API answers 412
until the customer accepts it (R-MON-19); the publication is audited."""

from __future__ import annotations

from pathlib import Path

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository_security import AccountSecurityRepository
from cloud_gateway.operator.repository import ConsoleAuditRepository
from tests.support.console import staff_login
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


async def test_published_terms_hold_the_api_until_accepted(
    tmp_path: Path, clock: ManualClock
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        await gw.create_account("olga", role=Role.OPERATOR)
        clock.advance(60)
        async with gw.client() as anna, gw.client() as olga:
            await gw.login(anna, "anna")
            async with anna.get("/api/v1/billing/documents") as r:
                assert r.status == 200
            token = await staff_login(gw, olga, "olga", clock)
            form = {"csrf_token": token, "kind": "terms", "version": "2026-12"}
            async with olga.post("/console/terms", data=form) as r:
                assert r.status == 422  # the reason is missing
                assert 'value="2026-12"' in await r.text()  # the input is kept
            form["reason"] = "Neue Preisregeln"
            async with olga.post("/console/terms", data=form, allow_redirects=False) as r:
                assert r.status == 303
            async with olga.get("/console/terms", allow_redirects=False) as r:
                assert r.status == 303  # staff accept the new version like everybody
                assert r.headers["Location"] == "/terms?next=/console/terms"
            current = await gw.gateway.store.repo(AccountSecurityRepository).current_documents()
            assert current["terms"] == "2026-12"

            async with anna.get("/api/v1/billing/documents") as r:
                assert r.status == 412
                body = await r.json()
            assert body["error"] == "terms_not_accepted"
            assert body["missing"] == {"terms": "2026-12"}
        [entry] = await gw.gateway.store.repo(ConsoleAuditRepository).recent()
        assert (entry.action, entry.target, entry.reason) == (
            "terms.publish",
            "terms:2026-12",
            "Neue Preisregeln",
        )
