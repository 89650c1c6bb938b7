"""The add-on's allow-list: configured targets plus those the owner manages in the portal."""

from __future__ import annotations

import pytest

from ccu_addon.streams import LocalTarget, TargetPolicy, TargetRefusedError, managed_targets
from tunnel.frames import OpenFailReason


def test_managed_targets_extend_and_replace_the_managed_part() -> None:
    configured = TargetPolicy.from_config("http://127.0.0.1/", ["192.168.1.5:80"])
    first = configured.with_managed(managed_targets({"targets": ["192.168.1.9:8080"]}))
    assert first.resolve("lan:192.168.1.9:8080") == LocalTarget("192.168.1.9", 8080)
    assert first.resolve("lan:192.168.1.5:80") == LocalTarget("192.168.1.5", 80)
    # the next message replaces the managed part; the configured target stays
    second = configured.with_managed(managed_targets({"targets": ["[fe80::1]:443"]}))
    with pytest.raises(TargetRefusedError) as refused:
        second.resolve("lan:192.168.1.9:8080")
    assert refused.value.reason is OpenFailReason.NOT_ALLOWED
    assert second.resolve("lan:[fe80::1]:443") == LocalTarget("fe80::1", 443)
    assert second.resolve("lan:192.168.1.5:80") == LocalTarget("192.168.1.5", 80)


@pytest.mark.parametrize(
    "body", [{}, {"targets": "x"}, {"targets": [1]}, {"targets": ["no-port"]}, ["x"]]
)
def test_malformed_messages_are_refused(body: object) -> None:
    with pytest.raises(TargetRefusedError):
        managed_targets(body)
