"""Tables of the remote-access area: handovers and remote sessions (migration ``0002``),
the forwarded-access audit (``0014``).

Attached to the shared :data:`~cloud_gateway.store.schema.metadata`. ``remote_sessions``
doubles as the remote-access audit (R-DEV-11): rows are never deleted, they record who reached
which device, when, from where and how many bytes.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = [
    "remote_handovers",
    "remote_relays",
    "remote_sessions",
]

remote_handovers = sa.Table(
    "remote_handovers",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
)

remote_sessions = sa.Table(
    "remote_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column(
        "device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("device_slug", sa.String(63), nullable=False),
    sa.Column("source_address", sa.String(64), nullable=False, server_default=""),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
    sa.Column("bytes_to_device", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("bytes_from_device", sa.BigInteger, nullable=False, server_default="0"),
    sa.Index("ix_remote_sessions_device_id", "device_id"),
    sa.Index("ix_remote_sessions_account_id", "account_id"),
)

remote_relays = sa.Table(
    "remote_relays",
    metadata,
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("remote_sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("entry_node", sa.String(64), primary_key=True),
    sa.Column("tunnel_node", sa.String(64), primary_key=True),
    sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
    sa.Column("bytes_to_device", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("bytes_from_device", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("first_at", UtcDateTime(), nullable=False),
    sa.Column("last_at", UtcDateTime(), nullable=False),
)
"""The audit of forwarded remote access (migration ``0014``): which node took the browser's
requests (``entry_node``, whose session row counts them too) and which node's tunnel carried
them (``tunnel_node``, which writes this row)."""
