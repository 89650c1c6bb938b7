"""Wiring of the entitlement and notification services into the application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from cloud_gateway.accounts.keys import openapi
from cloud_gateway.app_keys import CONFIG, ENTITLEMENTS, OUTBOX, PLANT_ACCESS, STORE
from cloud_gateway.entitlements import routes
from cloud_gateway.entitlements.api import DeviceEntitlementPolicy
from cloud_gateway.entitlements.scheduler import EntitlementScheduler
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.notify.worker import MailWorker
from cloud_gateway.plants.licence_access import LicencePlantAccess
from cloud_gateway.tunnels.keys import ENTITLEMENT_POLICY, TUNNELS
from cloud_gateway.web import CLOCK

__all__ = ["SCHEDULER", "setup"]

SCHEDULER: web.AppKey[EntitlementScheduler] = web.AppKey(
    "entitlement_scheduler", EntitlementScheduler
)
MAIL_WORKER: web.AppKey[MailWorker] = web.AppKey("mail_worker", MailWorker)


def setup(app: web.Application, policy: DeviceEntitlementPolicy | None = None) -> None:
    """Create the services; call before the plants and tunnel areas' ``setup``.

    ``policy`` overrides the device policy (tests of other areas); by default the
    :class:`EntitlementService` is the app's ``ENTITLEMENT_POLICY`` and its plant decisions
    back ``PLANT_ACCESS``. The tunnel registry (``TUNNELS``) becomes a listener at start-up.
    """
    config, store, clock = app[CONFIG], app[STORE], app[CLOCK]
    outbox = Outbox(store.repo(OutboxRepository))
    worker = MailWorker(store.repo(OutboxRepository), config.smtp, clock)
    outbox.on_commit(worker.wake)
    service = EntitlementService(store, clock, config.entitlements)
    scheduler = EntitlementScheduler(store, service, outbox, clock)
    app[OUTBOX] = outbox
    app[MAIL_WORKER] = worker
    app[ENTITLEMENTS] = service
    app[SCHEDULER] = scheduler
    app[ENTITLEMENT_POLICY] = policy or service
    app[PLANT_ACCESS] = LicencePlantAccess(service)
    openapi(app)
    routes.setup(app)
    app.on_startup.append(_listen_to_tunnels)
    app.cleanup_ctx.append(_background)


async def _listen_to_tunnels(app: web.Application) -> None:
    if TUNNELS in app:
        app[ENTITLEMENTS].add_listener(app[TUNNELS])


async def _background(app: web.Application) -> AsyncIterator[None]:
    tasks = [
        asyncio.create_task(app[MAIL_WORKER].run(), name="mail-worker"),
        asyncio.create_task(app[SCHEDULER].run(), name="entitlement-scheduler"),
    ]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
