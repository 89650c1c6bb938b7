"""Persistence plumbing: SQLAlchemy Core (async) on SQLite or PostgreSQL.

The engine, the shared ``MetaData`` and column types, upsert, the Alembic migrations (one
linear history) and the unit of work. Every area owns its tables and repositories; this
package imports no area.
"""

from cloud_gateway.store.engine import create_engine, migrate
from cloud_gateway.store.store import Store, UnitOfWork

__all__ = ["Store", "UnitOfWork", "create_engine", "migrate"]
