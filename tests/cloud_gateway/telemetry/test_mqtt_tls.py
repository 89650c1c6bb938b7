"""The gateway's MQTT connection for production: TLS, user name and password, client certificate.

A private Mosquitto (the real broker) with one listener that wants all three and one plain
listener for the test's subscriber; the publisher is the product's, configured as
``[mqtt]`` says (:func:`broker_tls`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from cloud_gateway.config import MqttConfig
from cloud_gateway.store import Store
from cloud_gateway.telemetry import mqtt_wire
from cloud_gateway.telemetry.publisher import MqttOutboxPublisher, broker_tls
from cloud_gateway.telemetry.repository_outbox import MqttOutboxRepository
from cloud_gateway.telemetry.schema import mqtt_outbox
from tests.support.mqtt import MqttProbe
from tunnel.clock import ManualClock

pytestmark = pytest.mark.mqtt


@dataclass
class _Broker:
    tls_port: int
    plain_port: int


def _free_port() -> int:
    """A port the kernel just handed out (Mosquitto cannot listen on port 0 itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def _mosquitto(tmp_path: Path, ca: trustme.CA) -> AsyncIterator[_Broker]:
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.cert_chain_pems[0].write_to_path(str(tmp_path / "server.pem"))
    server.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    passwd = await asyncio.create_subprocess_exec(
        "/usr/bin/mosquitto_passwd", "-b", "-c", str(tmp_path / "passwd"), "gateway", "s3cret"
    )
    assert await passwd.wait() == 0
    broker = _Broker(_free_port(), _free_port())
    (tmp_path / "mosquitto.conf").write_text(
        f"""\
per_listener_settings true
user root
persistence false
listener {broker.tls_port} 127.0.0.1
allow_anonymous false
password_file {tmp_path / "passwd"}
cafile {tmp_path / "ca.pem"}
certfile {tmp_path / "server.pem"}
keyfile {tmp_path / "server.key"}
require_certificate true
listener {broker.plain_port} 127.0.0.1
allow_anonymous true
"""
    )
    process = await asyncio.create_subprocess_exec(
        "/usr/sbin/mosquitto", "-c", str(tmp_path / "mosquitto.conf"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(10):
            while True:  # until both listeners accept
                try:
                    for port in (broker.tls_port, broker.plain_port):
                        _r, writer = await asyncio.open_connection("127.0.0.1", port)
                        writer.close()
                    break
                except OSError:
                    await asyncio.sleep(0.05)
        yield broker
    finally:
        process.terminate()
        await process.wait()


async def _put(store: Store, clock: ManualClock, topic: str, payload: bytes) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(
            mqtt_outbox.insert().values(topic=topic, payload=payload, created_at=clock.now())
        )


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_the_publisher_reaches_a_broker_that_wants_tls_password_and_certificate(
    tmp_path: Path, store: Store, clock: ManualClock, ca: trustme.CA
) -> None:
    client = ca.issue_cert("cloud-gateway")
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
    client.private_key_pem.write_to_path(str(tmp_path / "client.key"))
    async with _mosquitto(tmp_path, ca) as broker:
        probe = MqttProbe(port=broker.plain_port)
        await probe.start()
        try:
            await _put(store, clock, f"{probe.prefix}/secure", b"hello over TLS")
            good = MqttConfig(
                enabled=True,
                host="127.0.0.1",
                port=broker.tls_port,
                tls=True,
                ca_file=tmp_path / "ca.pem",
                cert_file=tmp_path / "client.pem",
                key_file=tmp_path / "client.key",
                username="gateway",
                password="s3cret",
            )
            # the broker refuses a wrong password and a connection without TLS
            with pytest.raises(mqtt_wire.MqttError):
                await mqtt_wire.connect(
                    good.host, good.port, client_id="intruder", on_puback=lambda _ids: None,
                    tls=broker_tls(good), username="gateway", password="wrong",
                )  # fmt: skip
            with pytest.raises((ConnectionError, TimeoutError, mqtt_wire.MqttError)):
                await mqtt_wire.connect(
                    good.host, good.port, client_id="plain", on_puback=lambda _ids: None,
                    username="gateway", password="s3cret", timeout_s=3.0,
                )  # fmt: skip
            # the right configuration gets through and the row goes after PUBACK
            publisher = MqttOutboxPublisher(
                store.repo(MqttOutboxRepository),
                host=good.host,
                port=good.port,
                tls=broker_tls(good),
                username=good.username,
                password=good.password,
            )
            task = asyncio.create_task(publisher.run())
            try:
                message = await probe.next()
                await publisher.drained.wait()
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            assert (message.topic, message.payload) == (f"{probe.prefix}/secure", b"hello over TLS")
            assert await store.repo(MqttOutboxRepository).count() == 0
        finally:
            await probe.stop()


def test_mqtt_credentials_are_checked_when_loaded() -> None:
    with pytest.raises(ValueError, match="cert_file and key_file"):
        MqttConfig(cert_file=Path("c.pem"))
    with pytest.raises(ValueError, match="needs a username"):
        MqttConfig(password="x")
    assert broker_tls(MqttConfig()) is None
