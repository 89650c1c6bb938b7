"""Queues and health as the database shows them, for the console and ``/metrics`` (R-OPS-3).

Figures are read from the shared database at the moment they are asked for, so every
gateway node reports the same values (R-OPS-5) and nothing depends on one node's memory:
the notification outbox and the MQTT outbox (depth, oldest waiting item), telemetry batches
(received in total and in the last five minutes, age of the newest). The money figures
(billing job queue, documents issued, payments) come from the billing area
(:mod:`cloud_gateway.billing.figures`) and are added with :meth:`HealthFigures.with_money`.
:func:`exposition` renders them in the Prometheus text format beside the tunnel metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cloud_gateway.notify.schema import notification_outbox
from cloud_gateway.store.repository import Repository
from cloud_gateway.telemetry.schema import mqtt_outbox, telemetry_batches

__all__ = ["HealthFigures", "HealthRepository", "QueueFigure", "exposition"]

RECENT = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class QueueFigure:
    """A queue's depth and how long its oldest item has waited (seconds, 0 when empty)."""

    name: str
    state: str
    depth: int
    oldest_age_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthFigures:
    """Everything the queues page and the scrape show."""

    queues: list[QueueFigure] = field(default_factory=list)
    documents: dict[str, int] = field(default_factory=dict)
    payments: int = 0
    payments_cents: int = 0
    telemetry_batches: int = 0
    telemetry_recent: int = 0
    telemetry_newest_age_s: float | None = None

    def with_money(
        self, queues: list[QueueFigure], documents: dict[str, int], payments: int, cents: int
    ) -> HealthFigures:
        """These figures with the money area's added."""
        return replace(
            self,
            queues=[*self.queues, *queues],
            documents=documents,
            payments=payments,
            payments_cents=cents,
        )


def _age(now: datetime, oldest: datetime | None) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


class HealthRepository(Repository):
    """Read-only figures over other areas' tables."""

    async def figures(self, now: datetime) -> HealthFigures:
        """The figures at ``now``."""
        queues: list[QueueFigure] = []
        async with self._db.connect() as conn:
            n = notification_outbox.c
            rows = await conn.execute(
                sa.select(n.state, sa.func.count(), sa.func.min(n.created_at)).group_by(n.state)
            )
            queues += [
                QueueFigure("notification_outbox", str(state), int(count), _age(now, oldest))
                for state, count, oldest in rows
                if state != "sent"
            ]
            count, oldest = (
                await conn.execute(
                    sa.select(sa.func.count(), sa.func.min(mqtt_outbox.c.created_at))
                )
            ).one()
            queues.append(QueueFigure("mqtt_outbox", "pending", int(count), _age(now, oldest)))
            t = telemetry_batches.c
            total, newest = (
                await conn.execute(sa.select(sa.func.count(), sa.func.max(t.received_at)))
            ).one()
            recent = await conn.scalar(
                sa.select(sa.func.count()).where(t.received_at > now - RECENT)
            )
        return HealthFigures(
            queues=queues,
            telemetry_batches=int(total),
            telemetry_recent=int(recent or 0),
            telemetry_newest_age_s=_age(now, newest) if newest is not None else None,
        )


class _FiguresCollector(Collector):
    def __init__(self, figures: HealthFigures) -> None:
        self._figures = figures

    def collect(self) -> list[Metric]:
        f = self._figures
        depth = GaugeMetricFamily(
            "cloudconnector_queue_depth",
            "Items waiting, by queue and state",
            labels=["queue", "state"],
        )
        age = GaugeMetricFamily(
            "cloudconnector_queue_oldest_age_seconds",
            "Age of the oldest waiting item, by queue and state",
            labels=["queue", "state"],
        )
        for q in f.queues:
            depth.add_metric([q.name, q.state], q.depth)
            age.add_metric([q.name, q.state], q.oldest_age_s)
        documents = CounterMetricFamily(
            "cloudconnector_documents_issued", "Billing documents issued, by kind", labels=["kind"]
        )
        for kind, count in sorted(f.documents.items()):
            documents.add_metric([kind], count)
        payments = CounterMetricFamily(
            "cloudconnector_payments_received", "Payments booked to payment accounts"
        )
        payments.add_metric([], f.payments)
        cents = CounterMetricFamily(
            "cloudconnector_payments_received_cents", "Sum of payments booked, in cents"
        )
        cents.add_metric([], f.payments_cents)
        batches = CounterMetricFamily(
            "cloudconnector_telemetry_batches", "TELEMETRY batches received (all nodes)"
        )
        batches.add_metric([], f.telemetry_batches)
        recent = GaugeMetricFamily(
            "cloudconnector_telemetry_batches_last_5m", "TELEMETRY batches in the last 5 minutes"
        )
        recent.add_metric([], f.telemetry_recent)
        lag = GaugeMetricFamily(
            "cloudconnector_telemetry_newest_age_seconds",
            "Seconds since the newest TELEMETRY batch arrived (ingest lag; NaN before the first)",
        )
        newest = f.telemetry_newest_age_s
        lag.add_metric([], math.nan if newest is None else newest)
        metrics: list[Metric] = [depth, age, documents, payments, cents, batches, recent, lag]
        return metrics


def exposition(figures: HealthFigures) -> bytes:
    """The figures in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_FiguresCollector(figures))
    return generate_latest(registry)
