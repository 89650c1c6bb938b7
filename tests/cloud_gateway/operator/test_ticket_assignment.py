"""Tickets are assigned to operators from the console: to oneself, to another operator or
back to nobody; the queue shows the assignee and filters "mine" and "unassigned"; every
assignment needs the CSRF token and a reason and is audited."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp

from cloud_gateway.accounts.model import Role
from cloud_gateway.http.keys import SUPPORT
from cloud_gateway.operator.repository import ConsoleAuditRepository
from tests.support.console import staff_login
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

_ROW = re.compile(r'<tr data-ticket="(\d+)">')


async def _queue(http: aiohttp.ClientSession, query: str) -> list[int]:
    async with http.get(f"/console/tickets?{query}") as resp:
        assert resp.status == 200
        return [int(found) for found in _ROW.findall(await resp.text())]


async def test_operators_take_and_hand_on_tickets(tmp_path: Path, clock: ManualClock) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await gw.create_account("olga", role=Role.OPERATOR)
        await gw.create_account("otto", role=Role.OPERATOR)
        await gw.create_account("bert", role=Role.ACCOUNTANT)
        support = gw.gateway.runner.app[SUPPORT]
        first = await support.open_ticket(anna.id, "Tunnel bricht ab", "Alle 10 Minuten.")
        second = await support.open_ticket(anna.id, "Rechnung fehlt", "Bitte senden.")
        async with gw.client() as olga, gw.client() as otto:
            csrf = await staff_login(gw, olga, "olga", clock)
            await staff_login(gw, otto, "otto", clock)
            assert sorted(await _queue(olga, "assigned=unassigned")) == [first, second]
            assert await _queue(olga, "assigned=mine") == []

            path = f"/console/tickets/{first}/assign"
            async with olga.post(path, data={"to": "me", "reason": "x"}) as resp:
                assert resp.status == 403  # no CSRF token
            form = {"csrf_token": csrf, "to": "me"}
            async with olga.post(path, data=form) as resp:
                assert resp.status == 422  # no reason
                assert "Bitte einen Grund angeben." in await resp.text()
            form["reason"] = "Ich übernehme"
            async with olga.post(path, data=form) as resp:
                assert resp.status == 200
                assert 'id="ticket-assignee">olga<' in await resp.text()
            assert await _queue(olga, "assigned=mine") == [first]
            assert await _queue(olga, "assigned=unassigned") == [second]
            assert await _queue(otto, "assigned=mine") == []
            async with olga.get("/console/tickets") as resp:
                page = await resp.text()
            row = page[page.index(f'data-ticket="{first}"') :]
            assert '<td class="assignee">olga</td>' in row[: row.index("</tr>")]

            # an accountant is no operator: refused, the ticket stays with olga
            form = {"csrf_token": csrf, "to": "bert", "reason": "Geld"}
            async with olga.post(path, data=form) as resp:
                assert resp.status == 422
                assert "nur an Mitarbeitende des Betriebs" in await resp.text()
            form = {"csrf_token": csrf, "to": "otto", "reason": "Urlaub"}
            async with olga.post(path, data=form) as resp:
                assert resp.status == 200
            assert await _queue(otto, "assigned=mine") == [first]
            assert await _queue(olga, "assigned=mine") == []

            form = {"csrf_token": csrf, "to": "", "reason": "zurück in die Schlange"}
            async with olga.post(path, data=form) as resp:
                assert resp.status == 200
            assert sorted(await _queue(otto, "assigned=unassigned")) == [first, second]
            assert (await support.ticket(first, None)).assignee_id is None

        entries = await gw.gateway.store.repo(ConsoleAuditRepository).recent(limit=10)
        assigned = [
            (e.operator, e.reason, e.detail) for e in entries if e.action == "ticket.assign"
        ]
        assert sorted(assigned) == [
            ("olga", "Ich übernehme", "olga"),
            ("olga", "Urlaub", "otto"),
            ("olga", "zurück in die Schlange", "-"),
        ]
        assert all(e.target == f"ticket:{first}" for e in entries if e.action == "ticket.assign")
