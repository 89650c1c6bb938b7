"""Plants and inverters tables (SQLAlchemy Core), on the shared metadata.

Migration ``0004_telemetry_plants`` creates them; this module is the map the repositories use.

* ``plants`` / ``inverters``: what an account monitors (R-MON-5, R-MON-7). An inverter's serial
  is unique across the gateway: one physical inverter sits in one plant.
* ``inverter_nameplates``: what the agent reported about a serial (SunSpec models 1 and 120),
  per account, so a later registration by serial finds its nominal power (R-MON-10).
* ``activation_failures``: wrong activation codes per account and source address, for rate
  limiting (the address since migration ``0030``).
* ``readings``: one row per inverter reading; ``inverter_days``: first and last energy counter
  of each local day per inverter slot and serial (energy today, power now). The telemetry
  ingest writes them; the plant pages read them.
* ``inverter_live`` (migration ``0025``): the newest reading's details per inverter (DC
  voltage and current, per-MPPT values, temperatures, SunSpec event bits) as JSON;
  ``inverter_events``: each SunSpec event bit raised (``active``) or cleared, with its time.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.plants.model import PLANT_FIELDS, FieldKind, FieldSpec
from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import BigId, UtcDateTime

__all__ = [
    "activation_failures",
    "inverter_days",
    "inverter_events",
    "inverter_live",
    "inverter_nameplates",
    "inverters",
    "plants",
    "readings",
]


def _column(spec: FieldSpec) -> sa.Column[object]:
    """The ``plants`` column of a plant field (texts not null with a default, numbers null)."""
    name = spec.column
    match spec.kind:
        case FieldKind.TEXT | FieldKind.COUNTRY:
            text: sa.types.TypeEngine[str] = sa.String(spec.limit)
            default = "DE" if spec.kind is FieldKind.COUNTRY else ""
            if spec.required:
                return sa.Column(name, text, nullable=False)
            return sa.Column(name, text, nullable=False, server_default=default)
        case FieldKind.LONG_TEXT:
            return sa.Column(name, sa.Text, nullable=False, server_default="")
        case FieldKind.FLOAT:
            return sa.Column(name, sa.Float, nullable=True)
        case FieldKind.INT | FieldKind.TARIFF:
            return sa.Column(name, sa.Integer, nullable=True)
        case FieldKind.CHOICE:
            return sa.Column(name, sa.String(16), nullable=False, server_default="pv")
        case FieldKind.FLAG:
            return sa.Column(name, sa.Boolean, nullable=False, server_default=sa.false())


plants = sa.Table(
    "plants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    ),
    *(_column(spec) for spec in PLANT_FIELDS),
    sa.Column("trial_started_at", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_plants_account_id", "account_id"),
)

inverters = sa.Table(
    "inverters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "plant_id", sa.Integer, sa.ForeignKey("plants.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("serial", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False, server_default=""),
    sa.Column("activated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_inverters_plant_id", "plant_id"),
)

inverter_nameplates = sa.Table(
    "inverter_nameplates",
    metadata,
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("serial", sa.String(32), nullable=False),
    sa.Column("manufacturer", sa.String(64), nullable=False, server_default=""),
    sa.Column("model", sa.String(64), nullable=False, server_default=""),
    sa.Column("version", sa.String(32), nullable=False, server_default=""),
    sa.Column("w_rating", sa.Integer, nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("account_id", "serial", name="pk_inverter_nameplates"),
)

activation_failures = sa.Table(
    "activation_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("source_address", sa.String(64), nullable=False, server_default=""),
    sa.Index("ix_activation_failures_account_id_at", "account_id", "at"),
    sa.Index("ix_activation_failures_source_address_at", "source_address", "at"),
)

readings = sa.Table(
    "readings",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "inverter_id", sa.Integer, sa.ForeignKey("inverters.id", ondelete="CASCADE"), nullable=True
    ),
    sa.Column("device_id", sa.Integer, nullable=False),
    sa.Column("serial", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("power_w", sa.Float, nullable=True),
    sa.Column("energy_wh", sa.Float, nullable=True),
    sa.Column("dc_power_w", sa.Float, nullable=True),
    sa.Column("state", sa.String(16), nullable=True),
    sa.Index("ix_readings_inverter_id_at", "inverter_id", "at"),
)

inverter_days = sa.Table(
    "inverter_days",
    metadata,
    sa.Column(
        "inverter_id", sa.Integer, sa.ForeignKey("inverters.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("serial", sa.String(32), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("first_at", UtcDateTime(), nullable=False),
    sa.Column("first_wh", sa.Float, nullable=False),
    sa.Column("last_at", UtcDateTime(), nullable=False),
    sa.Column("last_wh", sa.Float, nullable=False),
    sa.Column("last_power_w", sa.Float, nullable=True),
    sa.PrimaryKeyConstraint("inverter_id", "serial", "day", name="pk_inverter_days"),
)

inverter_live = sa.Table(
    "inverter_live",
    metadata,
    sa.Column(
        "inverter_id",
        sa.Integer,
        sa.ForeignKey("inverters.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("events", sa.BigInteger, nullable=True),
    sa.Column("payload", sa.Text, nullable=False),
)

inverter_events = sa.Table(
    "inverter_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "inverter_id", sa.Integer, sa.ForeignKey("inverters.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("code", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Index("ix_inverter_events_inverter_id_at", "inverter_id", "at"),
)
