"""Security review item 8: no fail-open activation key.

Without ``plants.activation_key`` the gateway used the public demo manufacturer key, so anyone
could compute activation codes for invented serials. Now it refuses to start unless the
configuration opts in to the demo key explicitly (``plants.demo_activation_key``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cloud_gateway.config import DatabaseConfig, GatewayConfig, HttpConfig, PlantsConfig
from cloud_gateway.errors import ConfigError
from cloud_gateway.server import start_gateway
from tunnel.clock import ManualClock


def _serve(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloud_gateway.cli", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_config_file_without_key_or_opt_in_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'state_dir = "{tmp_path / "gw"}"\n[http]\nhost = "127.0.0.1"\nport = 0\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "gw.sqlite3"}"\n',
        encoding="utf-8",
    )
    result = _serve(config)
    assert result.returncode == 2, result.stderr
    assert "serving" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert "configuration error" in lines[-1]
    assert "plants.activation_key" in lines[-1]
    assert "demo_activation_key" in lines[-1]


def _config(tmp_path: Path, plants: PlantsConfig) -> GatewayConfig:
    return GatewayConfig(
        state_dir=tmp_path / "gw",
        http=HttpConfig(host="127.0.0.1", port=0),
        database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"),
        plants=plants,
    )


async def test_the_default_configuration_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"plants\.activation_key"):
        await start_gateway(_config(tmp_path, PlantsConfig()), ManualClock())


@pytest.mark.parametrize(
    "plants",
    [
        PlantsConfig(activation_key="the manufacturer's secret"),
        PlantsConfig(demo_activation_key=True),
    ],
    ids=["own-key", "demo-opt-in"],
)
async def test_a_key_or_the_explicit_demo_opt_in_starts(
    tmp_path: Path, plants: PlantsConfig
) -> None:
    gateway = await start_gateway(_config(tmp_path, plants), ManualClock())
    await gateway.stop()
