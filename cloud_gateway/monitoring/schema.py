"""The monitoring area's tables: alert settings, alerts (open and closed), cached forecasts.

- ``alert_settings``: the owner's settings per plant (``inverter_id`` 0) and per-inverter
  overrides; a column left ``NULL`` switches its rule off; ``muted`` is read on the plant row.
- ``alerts``: one row per alert; ``closed_at IS NULL`` are the open alerts (the state the
  rounds continue from after a restart), the others the history shown in the portal. A
  partial unique index keeps one open alert per (plant, inverter, rule).
- ``forecast_days``: the clear-sky forecast and the sun-up intervals of a plant for one local
  day, computed once (pvlib, in a worker thread) and read by every round of that day.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import BigId, UtcDateTime

__all__ = ["alert_settings", "alerts", "forecast_days"]

alert_settings = sa.Table(
    "alert_settings",
    metadata,
    sa.Column(
        "plant_id", sa.Integer, sa.ForeignKey("plants.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("inverter_id", sa.Integer, nullable=False, server_default="0"),
    sa.Column("muted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("no_data_after_s", sa.Integer, nullable=True),
    sa.Column("below_best_share", sa.Float, nullable=True),
    sa.Column("below_best_window_s", sa.Integer, nullable=False),
    sa.Column("min_irradiance_w_m2", sa.Float, nullable=False),
    sa.Column("below_forecast_share", sa.Float, nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("plant_id", "inverter_id", name="pk_alert_settings"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "plant_id", sa.Integer, sa.ForeignKey("plants.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("inverter_id", sa.Integer, nullable=False),
    sa.Column("rule", sa.String(16), nullable=False),
    sa.Column("opened_at", UtcDateTime(), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("clear_since", UtcDateTime(), nullable=True),
    sa.Column("closed_at", UtcDateTime(), nullable=True),
    sa.Column("close_reason", sa.String(16), nullable=True),
    sa.Index("ix_alerts_plant_id_opened_at", "plant_id", "opened_at"),
    sa.Index(
        "uq_alerts_open",
        "plant_id",
        "inverter_id",
        "rule",
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
)

forecast_days = sa.Table(
    "forecast_days",
    metadata,
    sa.Column(
        "plant_id", sa.Integer, sa.ForeignKey("plants.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    # JSON: plant and inverter energy, the sun-up intervals (what every round reads)
    sa.Column("curve", sa.Text, nullable=False),
    # JSON: the plant's power curve (only the chart reads it)
    sa.Column("computed_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("plant_id", "day", name="pk_forecast_days"),
)
