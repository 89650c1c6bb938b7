"""Plants, inverters, telemetry readings.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Reserved slot; filled in by the area that owns it."""


def downgrade() -> None:
    """Reserved slot; filled in by the area that owns it."""
