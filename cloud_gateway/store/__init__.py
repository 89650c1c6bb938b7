"""Persistence: SQLAlchemy Core (async) on SQLite or PostgreSQL, one repository per area."""

from cloud_gateway.store.engine import create_engine, migrate
from cloud_gateway.store.store import Store

__all__ = ["Store", "create_engine", "migrate"]
