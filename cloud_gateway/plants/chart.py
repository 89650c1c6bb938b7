"""Today's power as an inline SVG line chart, rendered on the server (pure; no JavaScript).

:func:`plant_series` sums the inverters of a plant in 5-minute buckets (each inverter's mean in
the bucket); :func:`power_chart_svg` draws one series over the local day with hour marks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from html import escape

from cloud_gateway.plants.day_energy import BERLIN

__all__ = ["BUCKET", "plant_series", "power_chart_svg"]

BUCKET = timedelta(minutes=5)
_W, _H, _PAD_L, _PAD_B, _PAD_T = 640, 220, 56, 24, 12


def plant_series(
    points: Iterable[tuple[int, datetime, float | None]], start: datetime
) -> list[tuple[datetime, float]]:
    """Sum of per-inverter bucket means; ``points`` are (inverter id, instant, watts)."""
    sums: dict[tuple[int, int], tuple[float, int]] = {}
    step = BUCKET.total_seconds()
    for inverter_id, at, watts in points:
        if watts is None:
            continue
        bucket = int((at - start).total_seconds() // step)
        total, n = sums.get((bucket, inverter_id), (0.0, 0))
        sums[(bucket, inverter_id)] = (total + watts, n + 1)
    per_bucket: dict[int, float] = {}
    for (bucket, _inv), (total, n) in sums.items():
        per_bucket[bucket] = per_bucket.get(bucket, 0.0) + total / n
    return [(start + bucket * BUCKET, w) for bucket, w in sorted(per_bucket.items())]


def _nice_max(peak: float) -> float:
    for step in (100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000):
        if peak <= step * 4:
            return float(step * 4)
    return peak * 1.1


def power_chart_svg(
    series: Sequence[tuple[datetime, float]], start: datetime, end: datetime, title: str
) -> str:
    """The SVG markup (safe to embed: every text is escaped)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)  # real elapsed time on DST days
    span = (end - start).total_seconds()
    top = _nice_max(max((w for _t, w in series), default=0.0))
    plot_w, plot_h = _W - _PAD_L - 8, _H - _PAD_B - _PAD_T

    def x(at: datetime) -> float:
        return _PAD_L + plot_w * min(max((at - start).total_seconds() / span, 0.0), 1.0)

    def y(watts: float) -> float:
        return _PAD_T + plot_h * (1 - min(max(watts, 0.0), top) / top)

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {_W} {_H}" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        ),
        (
            f'<rect x="{_PAD_L}" y="{_PAD_T}" width="{plot_w}" height="{plot_h}" fill="#fff" '
            'stroke="#dde3ea"/>'
        ),
    ]
    for frac in (0.0, 0.5, 1.0):
        label = f"{top * frac / 1000:g} kW"
        parts.append(
            f'<text x="{_PAD_L - 6}" y="{y(top * frac) + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#5b6b7b">{escape(label)}</text>'
        )
    for hour in range(0, 25, 6):
        wall = start.astimezone(BERLIN) + timedelta(hours=hour)  # wall-clock hours
        at = min(wall.astimezone(UTC), end)
        parts.append(
            f'<text x="{x(at):.1f}" y="{_H - 6}" font-size="11" text-anchor="middle" '
            f'fill="#5b6b7b">{hour:02d}:00</text>'
        )
    if series:
        coords = " ".join(f"{x(t):.1f},{y(w):.1f}" for t, w in series)
        parts.append(
            f'<polyline class="power" points="{coords}" fill="none" stroke="#0a6ebd" '
            'stroke-width="2"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
