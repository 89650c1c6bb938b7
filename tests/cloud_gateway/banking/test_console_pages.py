"""The console's payments page over HTTPS on both backends, as an accountant's browser sends
its forms: an invalid upload is refused with a clear message; a statement's unmatched
payments are booked to a customer's payment account or refunded; the overdraft allowance is
set (a wrong amount keeps the input); the journal shows the booking. Each action audited."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import aiohttp

from cloud_gateway.accounts.model import Role
from cloud_gateway.banking.model import TransactionStatus
from cloud_gateway.billing.repository_backoffice import BackOfficeRepository
from cloud_gateway.http.keys import BANK
from cloud_gateway.operator.repository import ConsoleAuditRepository
from simulator.bank import Booking, Movement, statement_xml
from tests.support.console import staff_login
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

_TX = re.compile(r'id="tx-(\d+)"')


def _upload(csrf: str, data: bytes, reason: str = "Auszug") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("reason", reason)
    form.add_field("file", data, filename="auszug.xml", content_type="application/xml")
    return form


async def test_accountant_books_refunds_and_sets_the_overdraft(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await gw.create_account("bert", role=Role.ACCOUNTANT)
        movements = (
            Movement(amount=5000, name="UNBEKANNT", text="Guthaben"),
            Movement(amount=1200, name="IRRTUM GMBH", text="falsch"),
        )
        bookings = [
            Booking(movements=(m,), reference=f"T-{i}", booked=date(2026, 2, 12))
            for i, m in enumerate(movements)
        ]
        async with gw.client() as http:
            csrf = await staff_login(gw, http, "bert", clock)
            async with http.post(
                "/console/bank/statements", data=_upload(csrf, b"<kein camt/>")
            ) as resp:
                assert resp.status == 422
                assert "kein gültiger camt.053-Auszug" in await resp.text()
            async with http.post(
                "/console/bank/statements", data=_upload(csrf, statement_xml("08", bookings))
            ) as resp:
                assert resp.status == 200
                page = await resp.text()
            book_id, refund_id = sorted(int(i) for i in _TX.findall(page))

            base = "/console/bank/transactions"
            async with http.post(
                f"{base}/{book_id}/book",
                data={"csrf_token": csrf, "account": "niemand", "reason": "Kunde angerufen"},
            ) as resp:  # an unknown account: the message, the input kept
                assert resp.status == 422
                text = await resp.text()
                assert "Kein Konto mit diesem Namen." in text
                assert 'value="Kunde angerufen"' in text
            async with http.post(
                f"{base}/{book_id}/book",
                data={"csrf_token": csrf, "account": "anna", "reason": "Kunde angerufen"},
            ) as resp:
                assert resp.status == 200
                assert str(resp.url).endswith("/console/bank?done=book")
            async with http.post(
                f"{base}/{refund_id}/refund",
                data={"csrf_token": csrf, "note": "zurück", "reason": "Fehlüberweisung"},
            ) as resp:
                assert resp.status == 200
            async with http.post(
                f"{base}/{refund_id}/refund",
                data={"csrf_token": csrf, "note": "", "reason": "nochmal"},
            ) as resp:  # resolved already
                assert resp.status == 409
                assert "schon erledigt" in await resp.text()

            path = f"/console/bank/accounts/{anna.id}/overdraft"
            form = {"csrf_token": csrf, "account": "anna", "form_key": "k1", "reason": "Bonität"}
            async with http.post(path, data=form | {"limit": "12,345"}) as resp:
                assert resp.status == 422
                assert 'value="12,345"' in await resp.text()
            async with http.post(path, data=form | {"limit": "50,00"}) as resp:
                assert resp.status == 200
            async with http.get("/console/bank?account=anna") as resp:
                page = await resp.text()
            assert "50,00" in page
            assert 'id="journal"' in page

        bank = gw.gateway.runner.app[BANK]
        assert await bank.transactions(TransactionStatus.UNMATCHED) == []
        ledger = await gw.gateway.store.repo(BackOfficeRepository).ledger(anna.id)
        assert (ledger.balance, ledger.overdraft_limit) == (5000, 5000)
        entries = await gw.gateway.store.repo(ConsoleAuditRepository).recent(limit=20)
        actions = {(e.action, e.operator, e.reason) for e in entries}
        assert ("bank.book", "bert", "Kunde angerufen") in actions
        assert ("bank.refund", "bert", "Fehlüberweisung") in actions
        assert ("account.overdraft", "bert", "Bonität") in actions
        assert ("bank.upload", "bert", "Auszug") in actions
