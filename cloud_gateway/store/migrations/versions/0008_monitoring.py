"""Monitoring: alert settings, alerts (open and closed), cached forecast days.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _plant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["plant_id"], ["plants.id"], name=f"fk_{table}_plant_id_plants", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "alert_settings",
        sa.Column("plant_id", sa.Integer, nullable=False),
        sa.Column("inverter_id", sa.Integer, nullable=False, server_default="0"),
        sa.Column("muted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("no_data_after_s", sa.Integer, nullable=True),
        sa.Column("below_best_share", sa.Float, nullable=True),
        sa.Column("below_best_window_s", sa.Integer, nullable=False),
        sa.Column("min_irradiance_w_m2", sa.Float, nullable=False),
        sa.Column("below_forecast_share", sa.Float, nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("plant_id", "inverter_id", name="pk_alert_settings"),
        _plant_fk("alert_settings"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", _BIG_ID, autoincrement=True),
        sa.Column("plant_id", sa.Integer, nullable=False),
        sa.Column("inverter_id", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("clear_since", UtcDateTime(), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("close_reason", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        _plant_fk("alerts"),
    )
    op.create_index("ix_alerts_plant_id_opened_at", "alerts", ["plant_id", "opened_at"])
    op.create_index(
        "uq_alerts_open",
        "alerts",
        ["plant_id", "inverter_id", "rule"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "forecast_days",
        sa.Column("plant_id", sa.Integer, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("curve", sa.Text, nullable=False),
        sa.Column("computed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("plant_id", "day", name="pk_forecast_days"),
        _plant_fk("forecast_days"),
    )


def downgrade() -> None:
    op.drop_table("forecast_days")
    op.drop_index("uq_alerts_open", table_name="alerts")
    op.drop_index("ix_alerts_plant_id_opened_at", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_settings")
