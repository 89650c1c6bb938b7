"""The shared test infrastructure itself: SMTP recorder, MQTT probe, loopback guard."""

from __future__ import annotations

import asyncio
import os
import smtplib
import socket
from email.message import EmailMessage

import pytest

from tests.support.loops import loop_for
from tests.support.mqtt import MqttProbe
from tests.support.netguard import NonLoopbackConnectError
from tests.support.smtp import RecordingSmtp


async def test_smtp_server_records_messages(smtp_server: RecordingSmtp) -> None:
    msg = EmailMessage()
    msg["From"] = "gw@example.org"
    msg["To"] = "anna@example.org"
    msg["Subject"] = "Bitte bestätigen"
    msg.set_content("Hallo Anna")

    def send() -> None:
        with smtplib.SMTP(smtp_server.host, smtp_server.port) as client:
            client.send_message(msg)

    await asyncio.to_thread(send)
    (received,) = await smtp_server.wait_for(1)
    assert received["Subject"] == "Bitte bestätigen"
    assert received.get_content().strip() == "Hallo Anna"


async def test_mqtt_probe_sees_messages_below_its_prefix(mqtt_probe: MqttProbe) -> None:
    mqtt_probe.publish("hello", b"world")
    got = await mqtt_probe.next()
    assert got.topic == f"{mqtt_probe.prefix}/hello"
    assert got.payload == b"world"


def test_non_loopback_connections_are_refused() -> None:
    with socket.socket() as sock, pytest.raises(NonLoopbackConnectError):
        sock.connect(("192.0.2.1", 80))


async def test_the_running_loop_is_the_one_test_loop_names(request: pytest.FixtureRequest) -> None:
    """``TEST_LOOP=uvloop`` (``make test-uvloop``) runs this test on uvloop; by default
    (``split``) it is not a gateway test and runs on asyncio's loop."""
    expected = "uvloop" if os.environ.get("TEST_LOOP") == "uvloop" else "asyncio"
    assert loop_for(request.node, os.environ.get("TEST_LOOP", "split")) == expected
    assert type(asyncio.get_running_loop()).__module__.split(".")[0] == expected
