"""The store: one engine, one repository per area."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from cloud_gateway.store.accounts import AccountRepository
from cloud_gateway.store.devices import DeviceRepository
from cloud_gateway.store.engine import create_engine, migrate
from cloud_gateway.store.sessions import SessionRepository

__all__ = ["Store"]


class Store:
    """Holds the engine and the repositories; handlers only talk to repositories."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.accounts = AccountRepository(engine)
        self.devices = DeviceRepository(engine)
        self.sessions = SessionRepository(engine)

    @classmethod
    async def open(cls, url: str, *, run_migrations: bool = True) -> Store:
        """Create the engine for ``url`` and (by default) migrate the schema to head."""
        engine = create_engine(url)
        if run_migrations:
            await migrate(engine)
        return cls(engine)

    async def close(self) -> None:
        """Dispose of the connection pool."""
        await self.engine.dispose()
