"""Prometheus metrics of the tunnel endpoint (R-OPS-3), in a registry per application.

Counters the endpoint updates as things happen (connects, disconnects and refusals by
reason) are ordinary ``prometheus_client`` metrics; refusals also go into the last day's
hourly series (:mod:`.refusal_series`) the console draws, summed for the scrape. Byte,
stream and credit-stall totals live in the sessions; :class:`_SessionTotals` reads them at
scrape time and adds what ended sessions left behind, so nothing runs between scrapes.
Heartbeat RTTs are sampled into the histogram at scrape time and when a session ends, once
per new measurement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cloud_gateway.tunnels.refusal_series import RefusalSeries
from tunnel.session import SessionStats

__all__ = ["CONTENT_TYPE", "TunnelMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_RTT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(slots=True)
class _Totals:
    bytes_sent: int = 0
    bytes_received: int = 0
    streams: int = 0
    credit_stalls: int = 0

    def add(self, stats: SessionStats) -> None:
        self.bytes_sent += stats.bytes_sent
        self.bytes_received += stats.bytes_received
        self.streams += stats.streams_total
        self.credit_stalls += stats.credit_stalls


class _SessionTotals(Collector):
    """Totals over ended sessions plus the live ones, read at scrape time."""

    def __init__(self, ended: _Totals, live: Callable[[], Sequence[SessionStats]]) -> None:
        self._ended = ended
        self._live = live

    def collect(self) -> Iterable[Metric]:
        live = self._live()
        now = _Totals(**{k: getattr(self._ended, k) for k in _Totals.__slots__})
        for stats in live:
            now.add(stats)
        wire = CounterMetricFamily(
            "cloudconnector_tunnel_bytes",
            "Tunnel wire bytes by direction as seen from the gateway",
            labels=["direction"],
        )
        wire.add_metric(["to_device"], now.bytes_sent)
        wire.add_metric(["from_device"], now.bytes_received)
        yield wire
        yield CounterMetricFamily(
            "cloudconnector_tunnel_streams", "Streams opened in tunnels", value=now.streams
        )
        yield CounterMetricFamily(
            "cloudconnector_tunnel_credit_stalls",
            "Stream writes that waited for the peer's credit",
            value=now.credit_stalls,
        )
        yield GaugeMetricFamily(
            "cloudconnector_tunnels_open", "Live device tunnels", value=len(live)
        )
        yield GaugeMetricFamily(
            "cloudconnector_tunnel_streams_open",
            "Streams open now",
            value=sum(s.open_streams for s in live),
        )


class _RefusalWindow(Collector):
    """The last 24 hours' refusals by reason, summed from the series at scrape time."""

    def __init__(self, series: RefusalSeries, now: Callable[[], datetime]) -> None:
        self._series = series
        self._now = now

    def collect(self) -> Iterable[Metric]:
        gauge = GaugeMetricFamily(
            "cloudconnector_tunnel_refusals_24h",
            "Tunnel refusals in the last 24 hours (this node), by reason",
            labels=["reason"],
        )
        for row in self._series.rows(self._now()):
            gauge.add_metric([row.reason], row.total)
        yield gauge


class TunnelMetrics:
    """The gateway's tunnel metrics; :meth:`exposition` renders them for ``/metrics``.

    ``now`` is the injected clock's: it places refusals in the hourly series.
    """

    def __init__(
        self, live: Callable[[], Sequence[SessionStats]], *, now: Callable[[], datetime]
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._now = now
        self.refusal_series = RefusalSeries()
        """Refusals per reason and hour of the last day (the console's bars)."""
        self._ended = _Totals()
        self.connects = Counter(
            "cloudconnector_tunnel_connects",
            "Tunnels accepted (WELCOME sent)",
            registry=self.registry,
        )
        self.disconnects = Counter(
            "cloudconnector_tunnel_disconnects",
            "Tunnels ended, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "cloudconnector_tunnel_refusals",
            "Tunnel refusals (REFUSE sent), by reason",
            ["reason"],
            registry=self.registry,
        )
        self.remote_requests = Counter(
            "cloudconnector_remote_requests",
            "Remote-access requests, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.rtt = Histogram(
            "cloudconnector_tunnel_heartbeat_rtt_seconds",
            "Heartbeat round-trip time",
            buckets=_RTT_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_SessionTotals(self._ended, live))
        self.registry.register(_RefusalWindow(self.refusal_series, now))

    def refused(self, reason: str) -> None:
        """One REFUSE sent for ``reason``: the counter and the hourly series."""
        self.refusals.labels(reason=reason).inc()
        self.refusal_series.record(reason, self._now())

    def session_ended(self, stats: SessionStats, reason: str) -> None:
        """Fold an ended session's counters into the totals."""
        self._ended.add(stats)
        self.disconnects.labels(reason=reason).inc()

    def observe_rtt(self, rtt: float) -> None:
        """One heartbeat round trip."""
        self.rtt.observe(rtt)

    def exposition(self) -> bytes:
        """The text format for a scrape."""
        return generate_latest(self.registry)
