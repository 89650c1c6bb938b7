"""The documented HAProxy files are valid for Debian's HAProxy (``haproxy -c``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_gateway.tls import ensure_server_tls
from simulator.cluster import haproxy_config

ROOT = Path(__file__).resolve().parents[2]
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

pytestmark = pytest.mark.skipif(
    not Path(HAPROXY).exists(), reason="haproxy missing: scripts/ensure-services.sh installs it"
)


def _check(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HAPROXY, "-c", "-f", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


def test_the_production_file_is_valid(tmp_path: Path) -> None:
    tls = ensure_server_tls(tmp_path, "cloud.example.com", datetime.now(UTC))
    result = _check(
        ROOT / "packaging" / "haproxy" / "cloudconnector.cfg",
        CLOUDCONNECTOR_CA=str(tls.ca_cert),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # and HAProxy does complain about a broken one: the check means something
    broken = tmp_path / "broken.cfg"
    broken.write_text(
        (ROOT / "packaging" / "haproxy" / "cloudconnector.cfg")
        .read_text()
        .replace("balance leastconn", "balance fewest")
    )
    assert _check(broken, CLOUDCONNECTOR_CA=str(tls.ca_cert)).returncode != 0


def test_the_loopback_file_is_valid(tmp_path: Path) -> None:
    config = tmp_path / "loopback.cfg"
    config.write_text(haproxy_config({"a": 18443, "b": 18444}, listen="127.0.0.1:18442"))
    result = _check(config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_loopback_file_with_proxy_protocol_is_valid(tmp_path: Path) -> None:
    config = tmp_path / "loopback.cfg"
    text = haproxy_config({"a": 18443}, listen="127.0.0.1:18442", proxy_protocol=True)
    assert "send-proxy-v2" in text
    config.write_text(text)
    result = _check(config)
    assert result.returncode == 0, result.stdout + result.stderr
