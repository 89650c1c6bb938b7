"""Queues and health: the figures from the database in ``/metrics`` and on the console page;
an operator puts failed mails back in the queue with a reason (audited)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from cloud_gateway.accounts.model import Role
from cloud_gateway.config import GatewayConfig, OperatorConfig
from cloud_gateway.notify.repository import OutboxRepository, OutboxState
from cloud_gateway.operator.health import HealthRepository
from cloud_gateway.operator.repository import ConsoleAuditRepository
from tests.support.console import staff_login
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

_DASHBOARD = Path(__file__).parents[3] / "docs" / "grafana" / "cloudconnector.json"


async def test_failed_mails_show_up_and_are_retried(
    tmp_path: Path, clock: ManualClock, db_url: str
) -> None:
    config = replace(GatewayConfig(), operator=OperatorConfig(metrics_token="scrape-me"))
    async with gateway_harness(tmp_path, db_url, clock, config) as gw:
        store = gw.gateway.store
        await gw.create_account("olga", role=Role.OPERATOR)
        await gw.create_account("alma", role=Role.ACCOUNTANT)
        async with store.engine.begin() as conn:
            row_id = await store.repo(OutboxRepository).append(
                conn,
                recipient="kunde@example.org",
                template="test",
                language="de",
                subject="Hallo",
                body="Text",
                now=clock.now(),
            )
        assert row_id is not None
        clock.advance(120)
        await store.repo(OutboxRepository).mark_retry(
            row_id, error="550 mailbox unavailable", retry_at=clock.now(), give_up=True
        )

        async with (
            gw.client() as scraper,
            scraper.get("/metrics", headers={"Authorization": "Bearer scrape-me"}) as r,
        ):
            text = await r.text()
        assert 'cloudconnector_queue_depth{queue="notification_outbox",state="failed"} 1.0' in text
        assert (
            'cloudconnector_queue_oldest_age_seconds{queue="notification_outbox",state="failed"}'
            " 120.0" in text
        )
        assert 'cloudconnector_queue_depth{queue="mqtt_outbox",state="pending"} 0.0' in text
        assert 'cloudconnector_queue_depth{queue="billing_jobs",state="overdue"} 0.0' in text
        assert "cloudconnector_payments_received_total 0.0" in text
        assert "cloudconnector_telemetry_batches_total 0.0" in text
        # every metric the Grafana dashboard plots is in the scrape
        dashboard = json.loads(_DASHBOARD.read_text())
        exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
        names = {n for e in exprs for n in re.findall(r"cloudconnector_[a-z0-9_]+", e)}
        assert names
        assert not [n for n in names if n not in text]

        async with gw.client() as alma:
            token = await staff_login(gw, alma, "alma", clock)
            async with alma.get("/console/queues") as r:
                page = await r.text()
            assert r.status == 200
            assert 'data-queue="notification_outbox:failed"' in page
            assert "Fehlgeschlagene E-Mails erneut senden" not in page  # not the accountant's
            async with alma.post(
                "/console/queues/mail/retry", data={"csrf_token": token, "reason": "x"}
            ) as r:
                assert r.status == 403

        async with gw.client() as olga:
            token = await staff_login(gw, olga, "olga", clock)
            async with olga.post("/console/queues/mail/retry", data={"csrf_token": token}) as r:
                assert r.status == 422  # no reason
            async with olga.post(
                "/console/queues/mail/retry",
                data={"csrf_token": token, "reason": "Mailserver wieder erreichbar"},
                allow_redirects=False,
            ) as r:
                assert r.status == 303
        [row] = [r for r in await store.repo(OutboxRepository).list_recent() if r.id == row_id]
        assert row.state is not OutboxState.FAILED
        figures = await store.repo(HealthRepository).figures(clock.now())
        assert all(q.state != "failed" for q in figures.queues)
        [entry] = await store.repo(ConsoleAuditRepository).recent(target="notification_outbox")
        assert (entry.operator, entry.action, entry.detail) == ("olga", "mail.retry", "1 mails")
