"""Tables of the fleet: the gateway nodes and the tunnel directory (device → node).

Attached to the shared :data:`~cloud_gateway.store.schema.metadata`; migration ``0014``
creates them. A node's directory rows go with it (``ON DELETE CASCADE``) when its row is
removed as dead.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = ["fleet_nodes", "tunnel_directory"]

fleet_nodes = sa.Table(
    "fleet_nodes",
    metadata,
    sa.Column("node_id", sa.String(64), primary_key=True),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("heartbeat_at", UtcDateTime(), nullable=False),
    sa.Column("internal_url", sa.String(200), nullable=False, server_default=""),
    sa.Column("draining", sa.Boolean, nullable=False, server_default=sa.false()),
)

tunnel_directory = sa.Table(
    "tunnel_directory",
    metadata,
    sa.Column(
        "device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "node_id",
        sa.String(64),
        sa.ForeignKey("fleet_nodes.node_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("session_id", sa.String(64), nullable=False),
    sa.Column("since", UtcDateTime(), nullable=False),
    sa.Index("ix_tunnel_directory_node_id", "node_id"),
)
