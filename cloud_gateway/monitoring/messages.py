"""MQTT topic and payload of an alert event, version 1 (pure; docs/mqtt-topics.md, "Alerts").

::

    <prefix>/v1/plants/<plant_id>/inverters/<serial>/alerts/<rule>

Published with QoS 1. An ``opened`` message is **retained**, so a subscriber that connects later
sees every open alert; a ``closed`` message is published (not retained) and followed by an
empty retained message that clears the topic, so the broker keeps nothing for ended alerts
(:func:`alert_messages`). Payload: compact UTF-8 JSON, keys sorted::

    {"at":"2026-06-21T08:15:00.000Z","event":"opened","inverter_id":7,"open":true,
     "opened_at":"2026-06-21T08:15:00.000Z","plant_id":3,"reason":"no_data","rule":"no_data",
     "serial":"SN-0042","threshold":3600.0,"v":1,"value":3615.0}
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cloud_gateway.monitoring.alert_state import AlertEvent, EventType
from cloud_gateway.telemetry.topics import inverter_state_topic

__all__ = ["MqttMessage", "alert_messages", "alert_payload", "alert_topic"]

MqttMessage = tuple[str, bytes, bool]
"""(topic, payload, retain), as the MQTT outbox stores it."""


def alert_topic(prefix: str, event: AlertEvent, serial: str) -> str:
    """The topic an alert event is published (retained) to: beside the inverter's state."""
    inverter = inverter_state_topic(prefix, event.key.plant_id, serial).removesuffix("/state")
    return f"{inverter}/alerts/{event.key.rule.value}"


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert_payload(event: AlertEvent, serial: str) -> bytes:
    """The JSON body of an alert message."""
    body = {
        "v": 1,
        "event": event.type.value,
        "open": event.type is EventType.OPENED,
        "plant_id": event.key.plant_id,
        "inverter_id": event.key.inverter_id,
        "serial": serial,
        "rule": event.key.rule.value,
        "reason": event.reason.value,
        "at": _instant(event.at),
        "opened_at": _instant(event.opened_at),
        "value": float(event.value),
        "threshold": float(event.threshold),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def alert_messages(prefix: str, event: AlertEvent, serial: str) -> list[MqttMessage]:
    """The outbox rows of one event: ``opened`` retained; ``closed`` then an empty retained
    message that clears the topic (the alert's retained state ends with the alert)."""
    topic = alert_topic(prefix, event, serial)
    body = alert_payload(event, serial)
    if event.type is EventType.OPENED:
        return [(topic, body, True)]
    return [(topic, body, False), (topic, b"", True)]
