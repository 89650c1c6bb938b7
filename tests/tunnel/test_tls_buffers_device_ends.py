"""The device ends (``ccu-addon run``, ``inverter-agent run``) install the lean TLS
protocol (tunnel/tls_buffers.py, ADR 0007) before their event loop starts, as the gateway
does: the CCU saves the 256 KiB read buffer of its tunnel's TLS connection and the
exception per small record."""

from __future__ import annotations

import asyncio
from asyncio import sslproto
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import ccu_addon.cli
import inverter_agent.cli
from tunnel import heap, tls_buffers


@pytest.mark.parametrize("cli", [ccu_addon.cli, inverter_agent.cli], ids=lambda m: m.__name__)
def test_run_installs_the_lean_tls_protocol_before_the_loop(
    cli: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # As at process start (another test may have installed it); restored afterwards.
    monkeypatch.setattr(sslproto, "SSLProtocol", tls_buffers._STDLIB_PROTOCOL)
    assert not tls_buffers.installed()
    heap_set: list[bool] = []

    def set_heap() -> bool:
        heap_set.append(True)
        return True

    monkeypatch.setattr(heap, "install", set_heap)
    seen: list[tuple[bool, bool]] = []

    def loop_starts(main: Callable[[asyncio.Event], Coroutine[Any, Any, int]]) -> int:
        seen.append((tls_buffers.installed(), bool(heap_set)))
        return 0

    monkeypatch.setattr(cli, "run_async_command", loop_starts)
    assert cli.main(["run", "--config", str(tmp_path / "unused.toml")]) == 0
    assert seen == [(True, True)]  # and the heap's thresholds (tunnel/heap.py)
