"""The store: one engine, one repository per area."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from cloud_gateway.store.account_security import AccountSecurityRepository
from cloud_gateway.store.accounts import AccountRepository
from cloud_gateway.store.certificates import DeviceCertificateRepository
from cloud_gateway.store.customers import CustomerRepository
from cloud_gateway.store.devices import DeviceRepository
from cloud_gateway.store.engine import create_engine, migrate
from cloud_gateway.store.enrolment import EnrolmentRepository
from cloud_gateway.store.entitlements import EntitlementRepository
from cloud_gateway.store.inverters import InverterRepository
from cloud_gateway.store.mqtt_outbox import MqttOutboxRepository
from cloud_gateway.store.notifications import OutboxRepository
from cloud_gateway.store.plants import PlantRepository
from cloud_gateway.store.readings import ReadingRepository
from cloud_gateway.store.remote_access import RemoteAccessRepository
from cloud_gateway.store.sessions import SessionRepository
from cloud_gateway.store.telemetry import TelemetryRepository

__all__ = ["Store"]


class Store:
    """Holds the engine and the repositories; handlers only talk to repositories."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.accounts = AccountRepository(engine)
        self.devices = DeviceRepository(engine)
        self.sessions = SessionRepository(engine)
        self.entitlements = EntitlementRepository(engine)
        self.security = AccountSecurityRepository(engine)
        self.customers = CustomerRepository(engine)
        self.notifications = OutboxRepository(engine)
        self.plants = PlantRepository(engine)
        self.inverters = InverterRepository(engine)
        self.telemetry = TelemetryRepository(engine)
        self.readings = ReadingRepository(engine)
        self.mqtt_outbox = MqttOutboxRepository(engine)
        self.certificates = DeviceCertificateRepository(engine)
        self.enrolments = EnrolmentRepository(engine)
        self.remote = RemoteAccessRepository(engine)

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
