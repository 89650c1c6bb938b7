"""CCU hub events arriving through the tunnel: deduplicated, then fanned out over MQTT.

The add-on sends selected CCU events as TELEMETRY (``ccu_addon/telemetry.py``)::

    {"kind": "ccu_events", "events": [{"interface": "...", "address": "000A18A9A64DAD:1",
      "key": "ACTUAL_TEMPERATURE", "value": 19.5, "at": "2026-01-15T09:00:00+00:00"}]}

One transaction records the (device, sequence) key and writes one MQTT outbox row per
event; the ACK follows the commit, a resent batch writes nothing. Topic (docs/mqtt-topics.md)::

    <prefix>/v1/hubs/<device-slug>/devices/<address>/<key>
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from cloud_gateway.devices.model import Device
from cloud_gateway.errors import GatewayError
from cloud_gateway.store import Store
from cloud_gateway.telemetry.repository import TelemetryRepository
from tunnel.clock import Clock

__all__ = ["HubEventError", "HubEventSink", "hub_event_messages"]

_LOGGER = logging.getLogger(__name__)
_MAX_EVENTS = 5000


class HubEventError(GatewayError, ValueError):
    """A hub telemetry payload does not have the documented shape."""


def _level(text: str) -> str:
    return quote(text, safe=":._-")


def hub_event_messages(prefix: str, device_slug: str, payload: bytes) -> list[tuple[str, bytes]]:
    """The MQTT (topic, payload) pairs for one ``ccu_events`` batch (pure)."""
    try:
        body: Any = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HubEventError("not JSON") from exc
    if not isinstance(body, dict) or body.get("kind") != "ccu_events":
        raise HubEventError("not a ccu_events payload")
    events = body.get("events")
    if not isinstance(events, list) or len(events) > _MAX_EVENTS:
        raise HubEventError("events must be a list of at most 5000 objects")
    messages = []
    for event in events:
        if not isinstance(event, dict):
            raise HubEventError("every event must be an object")
        address, key = event.get("address"), event.get("key")
        if not isinstance(address, str) or not isinstance(key, str) or not address or not key:
            raise HubEventError("every event needs an address and a key")
        topic = f"{prefix}/v1/hubs/{_level(device_slug)}/devices/{_level(address)}/{_level(key)}"
        message = {
            "v": 1,
            "value": event.get("value"),
            "at": event.get("at"),
            "interface": event.get("interface"),
        }
        messages.append((topic, json.dumps(message, separators=(",", ":")).encode()))
    return messages


class HubEventSink:
    """Stores the dedup key and the outbox rows of a hub's event batch in one commit."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        topic_prefix: str | None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._telemetry = store.repo(TelemetryRepository)
        self._clock = clock
        self._prefix = topic_prefix
        self._on_commit = on_commit
        self.rejected = 0
        """Batches that could not be read (ACKed anyway, so they cannot jam the hub)."""

    async def ingest(self, device: Device, seq: int, payload: bytes) -> None:
        """Record one batch; returns after the commit (then the tunnel ACKs it)."""
        try:
            messages = hub_event_messages(self._prefix or "", device.slug, payload)
        except HubEventError as exc:
            _LOGGER.warning("hub events %s/%d rejected: %s", device.slug, seq, exc)
            self.rejected += 1
            messages = []
        if self._prefix is None:
            messages = []
        now = self._clock.now()
        async with self._telemetry.transaction() as tx:
            fresh = await tx.take_keys([(device.id, seq, not messages)], now)
            if fresh:
                await tx.enqueue(messages, now)
        if fresh and messages and self._on_commit is not None:
            self._on_commit()
