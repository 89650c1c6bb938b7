"""Alembic environment: runs on the connection handed over by ``store.engine.migrate``."""

from __future__ import annotations

from alembic import context

from cloud_gateway.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - migrations always run through store.engine.migrate
    raise RuntimeError("run migrations through cloud_gateway.store.engine.migrate")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
