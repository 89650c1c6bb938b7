"""Configuration loading: the TOML loader against plain ``tomllib`` parsing of the same file.

A start-up cost check: validating into dataclasses must stay a small multiple of parsing.
"""

from __future__ import annotations

import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from cloud_gateway.config import GatewayConfig
from tunnel.tomlconfig import load_config

_TOML = """
state_dir = "state"
remote_domain = "example.net"
[http]
host = "0.0.0.0"
port = 443
public_host = "gw.example.net"
[database]
url = "postgresql+asyncpg://gw@db/gw"
[mqtt]
enabled = true
host = "broker"
"""


def run(*, smoke: bool) -> dict[str, Any]:
    """Time ``n`` loads each way and report the ratio."""
    n = 50 if smoke else 5000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gateway.toml"
        path.write_text(_TOML)
        start = time.perf_counter()
        for _ in range(n):
            tomllib.loads(path.read_text())
        parse_s = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(n):
            load_config(path, GatewayConfig)
        load_s = time.perf_counter() - start
    return {
        "metrics": {"load_us": load_s / n * 1e6, "parse_us": parse_s / n * 1e6},
        "ratios": {"load_vs_parse": load_s / parse_s},
    }
