"""Wiring of the telemetry area: the ingest service and, with MQTT on, the outbox publisher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

from aiohttp import web

from cloud_gateway.app_keys import CONFIG, HUB_EVENTS, PLANT_ACCESS, STORE, TELEMETRY_INGEST
from cloud_gateway.plants.access import PlantAccess
from cloud_gateway.plants.model import Plant
from cloud_gateway.telemetry.hub_events import HubEventSink
from cloud_gateway.telemetry.ingest import TelemetryIngest
from cloud_gateway.telemetry.publisher import MqttOutboxPublisher
from cloud_gateway.telemetry.repository_outbox import MqttOutboxRepository
from cloud_gateway.web import CLOCK

__all__ = ["setup"]


class _AppAccess:
    """Asks whatever policy ``app[PLANT_ACCESS]`` holds when the question comes."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    async def decide(self, plant: Plant, at: datetime) -> PlantAccess:
        return await self._app[PLANT_ACCESS].decide(plant, at)


def setup(app: web.Application) -> None:
    """Create ``app[TELEMETRY_INGEST]``; start and stop the MQTT publisher with the app."""
    mqtt = app[CONFIG].mqtt
    publisher = (
        MqttOutboxPublisher(app[STORE].repo(MqttOutboxRepository), host=mqtt.host, port=mqtt.port)
        if mqtt.enabled
        else None
    )
    ingest = TelemetryIngest(
        app[STORE],
        app[CLOCK],
        access=_AppAccess(app),
        topic_prefix=mqtt.topic_prefix if mqtt.enabled else None,
        on_commit=publisher.wake if publisher is not None else None,
    )
    app[TELEMETRY_INGEST] = ingest
    app[HUB_EVENTS] = HubEventSink(
        app[STORE],
        app[CLOCK],
        topic_prefix=mqtt.topic_prefix if mqtt.enabled else None,
        on_commit=publisher.wake if publisher is not None else None,
    )

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        task = (
            asyncio.create_task(publisher.run(), name="mqtt-outbox-publisher")
            if publisher is not None
            else None
        )
        yield
        await ingest.close()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    app.cleanup_ctx.append(lifecycle)
