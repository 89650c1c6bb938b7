"""Every CLI answers a bad configuration with one line naming file and key, and exit code 2."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tunnel.tomlconfig import load_config

CLIS = [
    ("cloud_gateway.cli", ["serve"]),
    ("ccu_addon.cli", ["run"]),
    ("inverter_agent.cli", ["run"]),
]


def run_cli(module: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("module", "command"), CLIS)
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "file not found"),
        ("colour = 1\n", "colour: unknown key"),
        ("state_dir = 3\n", "state_dir: expected a path string, got 3"),
    ],
    ids=["missing", "unknown-key", "wrong-type"],
)
def test_bad_config_is_one_line_and_exit_2(
    tmp_path: Path, module: str, command: list[str], content: str | None, expected: str
) -> None:
    path = tmp_path / "bad.toml"
    if content is not None:
        path.write_text(content)
    result = run_cli(module, [*command, "--config", str(path)])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "module", ["cloud_gateway.cli", "ccu_addon.cli", "inverter_agent.cli", "simulator.cli"]
)
def test_help_mentions_config(module: str) -> None:
    result = run_cli(module, ["--help"])
    assert result.returncode == 0
    first_command = {"cloud_gateway.cli": "serve", "simulator.cli": "demo"}.get(module, "run")
    sub = run_cli(module, [first_command, "--help"])
    assert sub.returncode == 0
    assert "--config FILE" in sub.stdout


def test_example_configs_are_valid(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[1] / "docs" / "config"
    checks = {
        "gateway.toml": ("cloud_gateway.config", "GatewayConfig"),
        "ccu-addon.toml": ("ccu_addon.config", "AddonConfig"),
        "inverter-agent.toml": ("inverter_agent.config", "AgentConfig"),
    }
    for name, (module, cls_name) in checks.items():
        cls = getattr(importlib.import_module(module), cls_name)
        load_config(docs / name, cls)


@pytest.mark.parametrize(
    ("command", "content", "expected"),
    [
        ("inverters", "colour = 1\n", "colour: unknown key"),
        ("inverters", "count = 0\n", "count: must be at least 1"),
        ("inverters", 'faults = ["1:melting"]\n', "faults[0]:"),
        ("inverters", 'parity = "X"\n', "parity: expected one of N, E, O"),
        ("inverters", 'start = "2026-06-01T10:00"\n', "start:"),
        ("fleet", "count = 0\n", "count must be at least 1"),
        ("fleet", 'kind = "toaster"\n', "kind:"),
    ],
)
def test_simulator_commands_read_their_config(
    tmp_path: Path, command: str, content: str, expected: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    result = run_cli("simulator.cli", [command, "--config", str(path)])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    assert expected in lines[0]


def test_simulator_example_configs_are_valid() -> None:
    from simulator.fleet_cli import FleetConfig  # noqa: PLC0415 - only this test needs it
    from simulator.inverter_cli import load_inverters_config  # noqa: PLC0415

    docs = Path(__file__).resolve().parents[1] / "docs" / "config"
    inverters = load_inverters_config(docs / "simulator-inverters.toml")
    assert (inverters.count, inverters.faults) == (3, ("3:offline",))
    fleet = load_config(docs / "simulator-fleet.toml", FleetConfig)
    assert fleet.state_dir == docs / "fleet-state"
