"""Which event loop a long-running command runs on (ADR 0027): uvloop for the gateway when
installed, asyncio's own loop on request, a clear error when uvloop is asked for and missing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import uvloop

from tests.support.processes import ChildProcess
from tests.support.telemetry_rig import SERVING
from tunnel.cliutil import EventLoop, LoopFactory, loop_factory, run_async_command
from tunnel.errors import ConfigError


def test_asyncio_means_the_default_loop() -> None:
    assert loop_factory(EventLoop.ASYNCIO) is None


def test_auto_and_uvloop_take_uvloop_when_it_is_installed() -> None:
    assert loop_factory(EventLoop.AUTO) is uvloop.new_event_loop
    assert loop_factory(EventLoop.UVLOOP) is uvloop.new_event_loop


def test_without_uvloop_auto_falls_back_and_uvloop_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` now fails

    assert loop_factory(EventLoop.AUTO) is None
    with pytest.raises(ConfigError) as caught:
        loop_factory(EventLoop.UVLOOP, config_path="gw.toml")
    assert str(caught.value) == (
        "gw.toml: event_loop: uvloop is not installed (pip install 'cloudconnector[gateway]')"
    )


@pytest.mark.parametrize("new_loop", [None, uvloop.new_event_loop], ids=["asyncio", "uvloop"])
def test_the_command_runs_on_the_loop_it_was_given(new_loop: LoopFactory | None) -> None:
    seen: list[type] = []

    async def main(stop: asyncio.Event) -> int:
        seen.append(type(asyncio.get_running_loop()))
        return 7

    assert run_async_command(main, new_loop=new_loop) == 7
    assert (seen[0] is uvloop.Loop) is (new_loop is not None)


@pytest.mark.parametrize(
    ("choice", "loop_class"),
    [
        ("uvloop", "uvloop.Loop"),
        ("asyncio", "asyncio.unix_events._UnixSelectorEventLoop"),
        (None, "asyncio.unix_events._UnixSelectorEventLoop"),  # the default
    ],
    ids=["uvloop", "asyncio", "default"],
)
async def test_cloud_gateway_serve_runs_on_the_configured_loop(
    tmp_path: Path, choice: str | None, loop_class: str
) -> None:
    toml = tmp_path / "gateway.toml"
    chosen = f'event_loop = "{choice}"\n' if choice else ""
    toml.write_text(
        f'state_dir = "{tmp_path / "gateway"}"\n{chosen}'
        '[http]\nhost = "127.0.0.1"\nport = 0\n[plants]\ndemo_activation_key = true\n'
    )
    async with ChildProcess("gateway", "cloud_gateway.cli", "serve", "--config", str(toml)) as gw:
        await gw.wait_for(SERVING.pattern, timeout=60)
        assert f"event loop: {loop_class}" in gw.output(), gw.output()
        assert await gw.terminate() == 0, gw.output()


def test_an_unknown_loop_is_a_one_line_config_error(tmp_path: Path) -> None:
    toml = tmp_path / "gateway.toml"
    toml.write_text('event_loop = "trio"\n')
    done = subprocess.run(
        [sys.executable, "-m", "cloud_gateway.cli", "serve", "--config", str(toml)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"cloud-gateway: configuration error: {toml}: event_loop: "
        "expected one of auto, asyncio, uvloop, got 'trio'"
    )
