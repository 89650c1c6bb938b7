"""Tables of the remote-access area: handovers and remote sessions (migration ``0002``),
support grants (migration ``0018``), the forwarded-access audit (``0014``).

Attached to the shared :data:`~cloud_gateway.store.schema.metadata`. ``remote_sessions``
doubles as the remote-access audit (R-DEV-11): rows are never deleted, they record who reached
which device, when, from where and how many bytes. ``support_grants``: an owner lets
operators open one device for a limited time (R-OPS-4, ADR 0021); rows are kept after they
end or are revoked, as the owner's record of them.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = [
    "lan_targets",
    "remote_handovers",
    "remote_relays",
    "remote_sessions",
    "support_grants",
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

#: a hub's further LAN devices ("Netzwerkgeräte", R-DEV-10; migration 0015)
lan_targets = sa.Table(
    "lan_targets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("host", sa.String(253), nullable=False),
    sa.Column("port", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("device_id", "host", "port", name="uq_lan_targets_device_host_port"),
)


support_grants = sa.Table(
    "support_grants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "owner_account_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("granted_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Index("ix_support_grants_device_id", "device_id"),
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
