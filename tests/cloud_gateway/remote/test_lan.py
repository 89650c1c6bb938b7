"""LAN targets (Netzwerkgeräte): the pure rules, and the hub told its list when it connects."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.remote.lan import (
    InvalidLanTargetError,
    LanTarget,
    check_lan_target,
    lan_control_message,
    lan_label,
    split_label,
)
from cloud_gateway.remote.repository_lan import LanTargetRepository
from tests.support.gateway import gateway_harness
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tests.tunnel.sessions import until
from tunnel.clock import ManualClock


def test_targets_are_normalised() -> None:
    assert check_lan_target(" Fritz  Box ", "FRITZ.box", "80") == ("Fritz Box", "fritz.box", 80)
    assert check_lan_target("Kamera", "[FE80::1]", 8443) == ("Kamera", "fe80::1", 8443)


@pytest.mark.parametrize(
    ("name", "host", "port", "reason"),
    [
        ("", "fritz.box", "80", "name"),
        ("x" * 101, "fritz.box", "80", "name"),
        ("Router", "http://fritz.box", "80", "host"),
        ("Router", "fritz.box/admin", "80", "host"),
        ("Router", "", "80", "host"),
        ("Router", "fritz.box", "0", "port"),
        ("Router", "fritz.box", "65536", "port"),
        ("Router", "fritz.box", "http", "port"),
    ],
)
def test_bad_targets_are_refused(name: str, host: str, port: str, reason: str) -> None:
    with pytest.raises(InvalidLanTargetError) as refused:
        check_lan_target(name, host, port)
    assert refused.value.reason == reason


def test_labels_and_the_control_message() -> None:
    label = lan_label("ferienhaus-a1b2c3", 12)
    assert label == "ferienhaus-a1b2c3--lan12"
    assert split_label(label) == ("ferienhaus-a1b2c3", 12)
    assert split_label("ferienhaus-a1b2c3") == ("ferienhaus-a1b2c3", None)
    assert split_label("x--lan0") == ("x--lan0", None)  # no target 0: not a LAN host
    targets = [
        LanTarget(id=1, device_id=3, name="Kamera", host="fe80::1", port=443),
        LanTarget(id=2, device_id=3, name="Router", host="192.168.1.1", port=80),
    ]
    assert targets[0].stream_target == "lan:[fe80::1]:443"
    assert lan_control_message(targets) == {
        "type": "lan_targets",
        "targets": ["192.168.1.1:80", "[fe80::1]:443"],
    }


async def test_a_hub_learns_its_list_when_its_tunnel_comes_up(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        slug = await enrol_device(gw, device, "anna")
        store = gw.gateway.store
        hub = await store.repo(DeviceRepository).get_by_slug(slug)
        await store.repo(LanTargetRepository).add(
            hub.id, name="Router", host="192.168.1.1", port=80, now=clock.now()
        )
        client = await open_tunnel(gw.url, device.client_ssl())
        try:
            async with asyncio.timeout(5):
                await until(lambda: any(c.get("type") == "lan_targets" for c in client.controls))
            [message] = [c for c in client.controls if c.get("type") == "lan_targets"]
            assert message["targets"] == ["192.168.1.1:80"]
        finally:
            await client.stop()
