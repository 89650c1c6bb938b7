"""Alert mails (German first, English) and the MQTT message of an alert event."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cloud_gateway.monitoring.alert_state import (
    AlertEvent,
    AlertKey,
    AlertReason,
    AlertRule,
    EventType,
)
from cloud_gateway.monitoring.messages import alert_payload, alert_topic
from cloud_gateway.monitoring.texts import MONITORING_TEXTS, alert_mail

OPENED_AT = datetime(2026, 6, 21, 8, 30, tzinfo=UTC)
CLOSED_AT = datetime(2026, 6, 21, 9, 46, tzinfo=UTC)
KEY = AlertKey(plant_id=3, inverter_id=7, rule=AlertRule.NO_DATA)
OPENED = AlertEvent(
    type=EventType.OPENED,
    key=KEY,
    at=OPENED_AT,
    opened_at=OPENED_AT,
    reason=AlertReason.NO_DATA,
    value=1800.0,
    threshold=1800.0,
    notify=True,
)
CLOSED = AlertEvent(
    type=EventType.CLOSED,
    key=KEY,
    at=CLOSED_AT,
    opened_at=OPENED_AT,
    reason=AlertReason.RECOVERED,
    value=0.0,
    threshold=1800.0,
    notify=True,
)


def test_opened_mail_in_german_and_english() -> None:
    de = alert_mail(OPENED, language="de", plant_name="Scheune", inverter_name="WR Ost")
    assert de.subject == "Alarm: Scheune, WR Ost: Keine Daten"
    assert "21.06.2026 um 10:30 Uhr" in de.body  # local time in Berlin
    assert "seit 30 min bei Tageslicht keine Messwerte" in de.body
    en = alert_mail(OPENED, language="en", plant_name="Scheune", inverter_name="WR Ost")
    assert en.subject == "Alert: Scheune, WR Ost: No data"
    assert "2026-06-21 at 10:30" in en.body
    assert alert_mail(OPENED, language="fr", plant_name="S", inverter_name="W").subject.startswith(
        "Alarm:"
    )


def test_closed_mail_names_start_and_end() -> None:
    de = alert_mail(CLOSED, language="de", plant_name="Scheune", inverter_name="WR Ost")
    assert de.subject == "Entwarnung: Scheune, WR Ost: Keine Daten"
    assert "am 21.06.2026 um 11:46 Uhr beendet" in de.body
    assert "seit 21.06.2026 um 10:30 Uhr" in de.body


def test_share_rules_show_percentages() -> None:
    event = AlertEvent(
        type=EventType.OPENED,
        key=AlertKey(plant_id=3, inverter_id=7, rule=AlertRule.BELOW_BEST),
        at=OPENED_AT,
        opened_at=OPENED_AT,
        reason=AlertReason.BELOW_BEST,
        value=0.314,
        threshold=0.2,
        notify=True,
    )
    de = alert_mail(event, language="de", plant_name="Scheune", inverter_name="WR Ost")
    assert "je kWp 31 % weniger" in de.body
    assert "(eingestellt: 20 %)" in de.body
    en = alert_mail(event, language="en", plant_name="Scheune", inverter_name="WR Ost")
    assert "31% less per kWp" in en.body


def test_every_text_has_both_languages() -> None:
    assert all(set(t) == {"de", "en"} for t in MONITORING_TEXTS.values())


def test_mqtt_topic_and_payload() -> None:
    assert alert_topic("cc/", OPENED, "SN 42/7") == (
        "cc/v1/plants/3/inverters/SN%2042%2F7/alerts/no_data"
    )
    body = alert_payload(OPENED, "SN-0042")
    assert body == (
        b'{"at":"2026-06-21T08:30:00.000Z","event":"opened","inverter_id":7,"open":true,'
        b'"opened_at":"2026-06-21T08:30:00.000Z","plant_id":3,"reason":"no_data",'
        b'"rule":"no_data","serial":"SN-0042","threshold":1800.0,"v":1,"value":1800.0}'
    )
    closed = json.loads(alert_payload(CLOSED, "SN-0042"))
    assert closed["open"] is False
    assert closed["reason"] == "recovered"
    assert closed["at"] == "2026-06-21T09:46:00.000Z"
