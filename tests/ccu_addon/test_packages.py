"""Package messages from the gateway and their cache on flash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ccu_addon.packages import (
    PackageCache,
    PackageMessageError,
    PackageState,
    parse_packages_message,
)
from ccu_addon.status import AddonState

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def message(
    state: str = "active", ends: datetime | None = NOW + timedelta(days=3)
) -> dict[str, Any]:
    return {
        "type": "packages",
        "account": {"id": 7, "username": "anna"},
        "device": "ccu-a",
        "packages": [
            {
                "code": "remote",
                "name": "Fernzugriff",
                "state": state,
                "starts_at": NOW.isoformat(),
                "ends_at": ends.isoformat() if ends else None,
                "runtime_days": 365,
            }
        ],
    }


def test_parse_and_days_left() -> None:
    snapshot = parse_packages_message(message())
    (package,) = snapshot.packages
    assert package.state is PackageState.ACTIVE
    assert package.days_left(NOW) == 3
    assert package.days_left(NOW + timedelta(days=2, hours=1)) == 1
    assert package.days_left(NOW + timedelta(days=5)) == 0
    assert parse_packages_message(message(ends=None)).packages[0].days_left(NOW) is None
    assert snapshot.any_usable
    assert not parse_packages_message(message("expired")).any_usable


@pytest.mark.parametrize(
    "change",
    [
        {"type": "other"},
        {"account": {"id": "7", "username": "anna"}},
        {"account": {"id": True, "username": "anna"}},
        {"packages": "nope"},
        {"packages": [{"code": "x", "name": "y", "state": "paused"}]},
        {
            "packages": [
                {"code": "x", "name": "y", "state": "active", "ends_at": "2026-01-01T00:00"}
            ]
        },
    ],
)
def test_bad_messages_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(PackageMessageError):
        parse_packages_message(message() | change)


def test_cache_writes_only_when_the_content_changes(tmp_path: Path) -> None:
    cache = PackageCache(tmp_path)
    assert cache.load() is None
    assert cache.update(parse_packages_message(message()))
    assert not cache.update(parse_packages_message(message()))
    assert cache.writes == 1
    assert cache.update(parse_packages_message(message("grace")))
    assert cache.writes == 2
    assert [p.name for p in tmp_path.iterdir()] == ["packages.json"]
    again = PackageCache(tmp_path)
    loaded = again.load()
    assert loaded is not None
    assert loaded.packages[0].state is PackageState.GRACE
    assert not again.update(loaded)


def test_a_damaged_cache_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "packages.json").write_text("{not json")
    assert PackageCache(tmp_path).load() is None


async def test_control_messages_update_the_cache_once(tmp_path: Path) -> None:
    state = AddonState(PackageCache(tmp_path))
    await state.handle_control(message())
    await state.handle_control(message())
    await state.handle_control({"type": "packages", "account": "broken"})
    await state.handle_control({"type": "something-new"})
    assert state.cache.writes == 1
    assert state.packages is not None
    assert state.packages.account_name == "anna"
