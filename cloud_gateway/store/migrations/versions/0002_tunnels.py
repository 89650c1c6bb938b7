"""Tunnels: device certificates, pairing codes, revocation, audit.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Reserved slot; filled in by the area that owns it."""


def downgrade() -> None:
    """Reserved slot; filled in by the area that owns it."""
