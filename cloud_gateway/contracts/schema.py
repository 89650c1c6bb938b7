"""Tables of the prepaid service contracts (migration ``0013_service_contracts.py``).

``service_contracts`` holds what the money core does not know about a service: its service
number (assigned at acceptance), the provider and the pre-checked site coordinates (decimal
strings, WGS 84). ``service_refunds`` keeps each SEPA credit-transfer file (pain.001) once.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.accounts.schema import accounts
from cloud_gateway.billing.schema import billing_contracts
from cloud_gateway.plants.schema import plants
from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = ["service_contracts", "service_refunds"]

service_contracts = sa.Table(
    "service_contracts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "contract_id",
        sa.Integer,
        sa.ForeignKey(billing_contracts.c.id, ondelete="RESTRICT"),
        nullable=False,
        unique=True,
    ),
    sa.Column("service_number", sa.String(32), nullable=False, unique=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("latitude", sa.String(16), nullable=False),
    sa.Column("longitude", sa.String(16), nullable=False),
    sa.Column(
        "plant_id", sa.Integer, sa.ForeignKey(plants.c.id, ondelete="SET NULL"), nullable=True
    ),
    sa.Column("precheck_reference", sa.String(64), nullable=False, server_default=""),
    #: the idempotency key of the order: a retry finds the accepted service without asking
    #: the provider again
    sa.Column("order_key", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

service_refunds = sa.Table(
    "service_refunds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey(accounts.c.id, ondelete="RESTRICT"), nullable=False
    ),
    sa.Column("idempotency_key", sa.String(100), nullable=False, unique=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("iban", sa.String(34), nullable=False),
    sa.Column("holder", sa.String(70), nullable=False),
    sa.Column("pain001", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)
