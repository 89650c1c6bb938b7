"""The operator's bank API on the real gateway over TLS: upload, queue, assign, refusals."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cloud_gateway.accounts.model import Role
from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.documents import view_from_canonical
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering import render_xml
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, Customer, OrderLine
from cloud_gateway.cli import main
from cloud_gateway.config import BillingConfig
from simulator.bank import Booking, Movement, statement_xml
from tests.support.console import staff_login
from tests.support.einvoice import validate_cii
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock

SATELLITE = OrderLine(product="satellite-uplink", plan="monthly")


async def _session(gw: GatewayHarness, http: aiohttp.ClientSession, login: str) -> str:
    assert (await gw.login(http, login)).status == 200
    return await gw.form_token(http, "/portal")


async def _post(
    http: aiohttp.ClientSession, path: str, csrf: str, **kwargs: Any
) -> tuple[int, Any]:
    async with http.post(path, headers={"X-CSRF-Token": csrf, **kwargs.pop("headers", {})},
                         **kwargs) as resp:  # fmt: skip
        return resp.status, await resp.json()


async def test_operators_upload_statements_and_resolve_the_queue(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await gw.create_account("olga", role=Role.OPERATOR)
        billing = BillingService(
            gw.gateway.store.repo(BillingRepository), load_catalogues(), clock, BillingConfig()
        )
        customer = Customer(account_id=anna.id, party=Party(name="Anna Albers"),
                            buyer=Buyer(business=False, country="DE"))  # fmt: skip
        await billing.place_order(customer, [SATELLITE], key="o")
        credits = (
            Movement(amount=100000, name="Anna Albers", reference="RF98PR202600001"),
            Movement(amount=4200, name="Wer Auch Immer", text="Spende"),
        )
        data = statement_xml(
            "02", [Booking(movements=credits, reference="E1", booked=date(2026, 2, 12))]
        )
        upload = "/api/v1/operator/bank/statements"
        async with gw.client() as http:
            csrf = await _session(gw, http, "anna")
            status, body = await _post(http, upload, csrf, data=data,
                                       headers={"Content-Type": "application/xml"})  # fmt: skip
            assert (status, body["error"]) == (403, "operator_role_required")
        async with gw.client() as http:
            csrf = await staff_login(gw, http, "olga", clock)
            status, body = await _post(http, upload, csrf, data=data,
                                       headers={"Content-Type": "application/xml"})  # fmt: skip
            assert status == 200
            assert (body["partial"], body["unmatched"]) == (1, 1)
            form = aiohttp.FormData()
            form.add_field("file", data, filename="auszug.xml", content_type="application/xml")
            status, body = await _post(http, upload, csrf, data=form)
            assert (status, body["duplicates"], body["transactions"]) == (200, 2, 0)
            broken = aiohttp.FormData()
            broken.add_field("file", data.replace(b"<Amt Ccy", b"<Btrg Ccy", 1),
                             filename="kaputt.xml", content_type="application/xml")  # fmt: skip
            status, body = await _post(http, upload, csrf, data=broken,
                                       headers={"Accept-Language": "de"})  # fmt: skip
            assert (status, body["error"]) == (400, "invalid_request")
            assert body["message"].startswith("Die Datei „kaputt.xml“ ist kein gültiger")
            assert "Es wurde nichts gebucht." in body["message"]

            async with http.get("/api/v1/operator/bank/queue") as resp:
                [queued] = (await resp.json())["transactions"]
            assert (queued["name"], queued["amount"]) == ("Wer Auch Immer", "42.00")
            path = f"/api/v1/operator/bank/transactions/{queued['id']}/assign"
            status, body = await _post(http, path, csrf, json={"account_id": anna.id})
            assert (status, body["status"], body["account_id"]) == (200, "booked", anna.id)
            status, body = await _post(http, path, csrf, json={"account_id": anna.id},
                                       headers={"Accept-Language": "en"})  # fmt: skip
            assert (status, body["message"]) == (
                409, "This payment has already been assigned, refunded or booked.",
            )  # fmt: skip
            async with http.get("/api/v1/billing/account") as resp:
                assert resp.status == 200
        async with gw.client() as http:
            await _session(gw, http, "anna")
            async with http.get("/api/v1/billing/account") as resp:
                assert (await resp.json())["balance"] == "1042.00"  # partial + booked
        repo = gw.gateway.store.repo(BillingRepository)
        async with repo.transaction() as conn:
            documents = await repo.documents(conn)
        for document in documents:  # EN 16931: XSD and schematron
            xml = render_xml(view_from_canonical(document.canonical.encode()))
            await asyncio.to_thread(validate_cii, xml)


def test_the_cli_imports_a_statement_and_prints_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'state_dir = "{tmp_path}"\n[database]\nurl = "{url}"\n'
        "[plants]\ndemo_activation_key = true\n",
        encoding="utf-8",
    )
    unknown = Movement(amount=1999, name="Niemand", text="?")
    statement = tmp_path / "auszug.xml"
    statement.write_bytes(
        statement_xml(
            "08", [Booking(movements=(unknown,), reference="C1", booked=date(2026, 2, 1))]
        )
    )
    argv = ["bank", "import", "--config", str(config), str(statement)]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (printed["unmatched"], printed["duplicates"]) == (1, 0)
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["duplicates"] == 1
    other = tmp_path / "fremd.xml"
    other.write_bytes(
        statement_xml(
            "02",
            [Booking(movements=(unknown,), reference="C2", booked=date(2026, 2, 1))],
            iban="DE89370400440532013000",
        )
    )
    assert main(["bank", "import", "--config", str(config), str(other)]) == 1
    assert "not the seller's" in capsys.readouterr().err
