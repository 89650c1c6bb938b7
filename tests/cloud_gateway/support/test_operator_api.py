"""The operator's ticket and repair routes: role check, invalid bodies, refused steps."""

from __future__ import annotations

from pathlib import Path

from cloud_gateway.accounts.model import Role
from cloud_gateway.http.keys import SUPPORT
from cloud_gateway.support.attachments import checked
from cloud_gateway.support.service import RepairForm
from tests.cloud_gateway.accounts.support import link_path, mailing_gateway
from tests.support.console import staff_login
from tests.support.gateway import gateway_harness
from tests.support.smtp import RecordingSmtp
from tunnel.clock import ManualClock

FORM = {"contact_name": "Anna", "contact_email": "anna@example.org", "category": "siemens",
        "device_serial": "SN-9", "fault": "Lüfter laut"}  # fmt: skip


async def test_operator_routes_refuse_customers_bad_bodies_and_wrong_steps(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await gw.create_account("olga", role=Role.OPERATOR)
        support = gw.gateway.runner.app[SUPPORT]
        shot = checked("bild.png", b"\x89PNG\r\n\x1a\nIHDR")
        ticket = await support.open_ticket(anna.id, "Frage", "Wie geht das?", [shot])
        attachment = (await support.ticket(ticket, anna.id)).messages[0].attachments[0].id
        repair = await support.file_repair(anna.id, RepairForm.parse(FORM))
        base = "/api/v1/operator"
        async with gw.client() as http:
            await gw.login(http, "anna")
            async with http.post(f"{base}/tickets/{ticket}/answer", json={"body": "x"}) as resp:
                assert resp.status == 403
            async with http.get(f"{base}/repairs") as resp:
                assert resp.status == 403
            async with http.get(f"{base}/attachments/{attachment}") as resp:
                assert resp.status == 403
        async with gw.client() as http:
            csrf = {"X-CSRF-Token": await staff_login(gw, http, "olga", clock)}
            async with http.get(f"{base}/tickets?status=open") as resp:
                assert [t["id"] for t in (await resp.json())["tickets"]] == [ticket]
            async with http.get(f"{base}/attachments/{attachment}") as resp:
                assert resp.content_type == "image/png"
                assert await resp.read() == b"\x89PNG\r\n\x1a\nIHDR"
            async with http.post(
                f"{base}/tickets/{ticket}/answer", json={"body": " "}, headers=csrf
            ) as resp:
                assert resp.status == 422
            async with http.post(
                f"{base}/tickets/999/answer", json={"body": "x"}, headers=csrf
            ) as resp:
                assert resp.status == 404
            # a quote before the review, a quote without an amount, a state the operator
            # cannot set, a step out of order
            async with http.post(
                f"{base}/repairs/{repair}/quote", json={"net": 100, "text": "t"}, headers=csrf
            ) as resp:
                assert resp.status == 409
            async with http.post(
                f"{base}/repairs/{repair}/review", json={"note": ""}, headers=csrf
            ) as resp:
                assert (await resp.json())["state"] == "in_review"
            async with http.post(
                f"{base}/repairs/{repair}/quote", json={"net": "1", "text": "t"}, headers=csrf
            ) as resp:
                assert resp.status == 422
            async with http.post(
                f"{base}/repairs/{repair}/state", json={"state": "accepted"}, headers=csrf
            ) as resp:
                assert resp.status == 422
            async with http.post(
                f"{base}/repairs/{repair}/state", json={"state": "done"}, headers=csrf
            ) as resp:
                assert resp.status == 409
            async with http.post(
                f"{base}/repairs/{repair}/quote", json={"net": 5000, "text": "Lüfter"}, headers=csrf
            ) as resp:
                body = await resp.json()
                assert (body["state"], body["quote_net"]) == ("quoted", 5000)
        assert (await support.ticket(ticket, anna.id)).status.value == "open"


async def test_answer_and_quote_reach_the_customer_by_smtp(
    tmp_path: Path, db_url: str, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    async with mailing_gateway(tmp_path, db_url, clock, smtp_server) as gw:
        anna = await gw.create_account("anna")
        await gw.create_account("olga", role=Role.OPERATOR)
        support = gw.gateway.runner.app[SUPPORT]
        ticket = await support.open_ticket(anna.id, "Tunnel bricht ab", "Alle 10 Minuten.")
        repair = await support.file_repair(anna.id, RepairForm.parse(FORM))
        base = "/api/v1/operator"
        async with gw.client() as http:
            csrf = {"X-CSRF-Token": await staff_login(gw, http, "olga", clock)}
            answer = {"body": "Bitte Firmware 3.2 einspielen."}
            async with http.post(
                f"{base}/tickets/{ticket}/answer", json=answer, headers=csrf
            ) as resp:
                assert resp.status == 200
            [mail] = await smtp_server.wait_for(1)
            assert mail["To"] == "anna@example.org"
            assert mail["Subject"] == f"Antwort auf Ihre Anfrage T-{ticket:06d}: Tunnel bricht ab"
            assert "Firmware 3.2" in mail.get_content()
            assert link_path(mail) == f"/portal/tickets/{ticket}"

            async with http.post(
                f"{base}/repairs/{repair}/review", json={"note": ""}, headers=csrf
            ) as resp:
                assert resp.status == 200
            quote = {"net": 12345, "text": "Lüftertausch"}
            async with http.post(
                f"{base}/repairs/{repair}/quote", json=quote, headers=csrf
            ) as resp:
                assert resp.status == 200
            quoted = (await smtp_server.wait_for(2))[1]
            assert "146,91" in quoted.get_content()  # 123,45 € + 19 % (23,4555 → 23,46)
            assert link_path(quoted) == f"/portal/repairs/{repair}"
