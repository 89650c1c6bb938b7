"""The fleet: nodes with their heartbeat, the tunnel directory, the forwarded-access audit.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_nodes",
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("heartbeat_at", UtcDateTime(), nullable=False),
        sa.Column("internal_url", sa.String(200), nullable=False, server_default=""),
        sa.Column("draining", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("node_id", name="pk_fleet_nodes"),
    )
    op.create_table(
        "tunnel_directory",
        sa.Column("device_id", sa.Integer, nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("since", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name="pk_tunnel_directory"),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name="fk_tunnel_directory_device_id_devices",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["fleet_nodes.node_id"],
            name="fk_tunnel_directory_node_id_fleet_nodes",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_tunnel_directory_node_id", "tunnel_directory", ["node_id"])
    op.create_table(
        "remote_relays",
        sa.Column("session_id", sa.Integer, nullable=False),
        sa.Column("entry_node", sa.String(64), nullable=False),
        sa.Column("tunnel_node", sa.String(64), nullable=False),
        sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
        sa.Column("bytes_to_device", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("bytes_from_device", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("first_at", UtcDateTime(), nullable=False),
        sa.Column("last_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "entry_node", "tunnel_node", name="pk_remote_relays"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["remote_sessions.id"],
            name="fk_remote_relays_session_id_remote_sessions",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("remote_relays")
    op.drop_index("ix_tunnel_directory_node_id", table_name="tunnel_directory")
    op.drop_table("tunnel_directory")
    op.drop_table("fleet_nodes")
