"""The CCU add-on archive: build, install, run, uninstall in a scratch CCU file system."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench._hubroot import CCU_FOLDERS

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "packaging" / "ccu" / "build_addon.py"
OTHER_ENTRY = (
    "hm_pdetect {CONFIG_URL /addons/hm_pdetect CONFIG_DESCRIPTION "
    "{de {<li>FRITZ!-basierte Anwesenheitserkennung</li>} en {<li>presence</li>}} "
    'ID hm_pdetect CONFIG_NAME "HM-pdetect"}\n'
)


def build(output_dir: Path) -> Path:
    done = subprocess.run(
        [sys.executable, str(BUILD), "--output-dir", str(output_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(done.stdout.strip())


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("dist"))


def ccu_layout(root: Path) -> None:
    """The folders a CCU has before any add-on, and another add-on's button."""
    for folder in CCU_FOLDERS:
        (root / folder).mkdir(parents=True)
    (root / "usr/local/etc/config/hm_addons.cfg").write_text(OTHER_ENTRY)


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


class Ccu:
    """A scratch CCU root and the environment that points the scripts at it."""

    def __init__(self, root: Path, unpacked: Path) -> None:
        self.root = root
        self.unpacked = unpacked
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "CCU_ROOT": str(root),
            "CCU_ADDON_PYTHON": sys.executable,
            "CCU_ADDON_LISTEN_PORT": "0",
        }
        self.rcd = root / "usr/local/etc/config/rc.d/cloudconnector"
        self.pid_file = root / "var/run/cloudconnector.pid"

    def run(self, *cmd: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cmd, env=self.env | env, capture_output=True, text=True, timeout=60, check=False
        )

    def rc(self, command: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.rcd), command)

    def install(self, **env: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.unpacked / "update_script"), "HM-RASPBERRYMATIC", **env)

    def pid(self) -> int:
        return int(self.pid_file.read_text())


def alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def ccu(tmp_path: Path, archive: Path) -> Iterator[Ccu]:
    root = tmp_path / "ccu"
    ccu_layout(root)
    unpacked = tmp_path / "upload"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    scratch = Ccu(root, unpacked)
    try:
        yield scratch
    finally:
        if scratch.rcd.exists():
            scratch.rc("stop")


def test_archive_has_the_ccu_addon_layout_and_a_checksum(archive: Path) -> None:
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["update_script"].mode & 0o111
    assert members["rc.d/cloudconnector"].mode & 0o111
    assert "addon/lib/ccu_addon/cli.py" in members
    assert "addon/lib/tunnel/clock.py" in members
    assert not [name for name in members if "__pycache__" in name or "cloud_gateway" in name]
    digest, name = archive.with_name(archive.name + ".sha256").read_text().split()
    assert name == archive.name
    assert digest == hashlib.sha256(archive.read_bytes()).hexdigest()


def test_the_build_is_reproducible(archive: Path, tmp_path: Path) -> None:
    assert build(tmp_path).read_bytes() == archive.read_bytes()


def test_install_start_info_restart_stop_uninstall_leaves_no_trace(ccu: Ccu) -> None:
    before = snapshot(ccu.root)

    installed = ccu.install()
    assert installed.returncode == 0, installed.stdout + installed.stderr
    config_dir = ccu.root / "usr/local/etc/config"
    cfg = (config_dir / "hm_addons.cfg").read_text()
    assert cfg.startswith(OTHER_ENTRY)
    assert "cloudconnector {CONFIG_URL /addons/cloudconnector/" in cfg
    assert "CONFIG_NAME CloudConnector}" in cfg
    assert '"port" => 0' in (config_dir / "lighttpd/cloudconnector.conf").read_text()
    monit = (ccu.root / "usr/local/etc/monit-cloudconnector.cfg").read_text()
    assert f"with pidfile {ccu.pid_file}" in monit
    unit = (ccu.root / "usr/local/addons/cloudconnector/etc/cloudconnector.service").read_text()
    assert f"ExecStart={sys.executable} -m ccu_addon.cli run" in unit
    assert (config_dir / "addons/cloudconnector/addon.toml").is_file()

    # update_script started the daemon; a second start keeps it.
    first = ccu.pid()
    assert alive(first)
    again = ccu.rc("start")
    assert again.returncode == 0
    assert "already running" in again.stdout
    assert ccu.rc("status").stdout.strip() == f'{{"running":true,"pid":{first}}}'

    info = ccu.rc("info")
    assert info.returncode == 0
    lines = dict(line.split(": ", 1) for line in info.stdout.splitlines())
    assert lines["Name"] == "CloudConnector"
    assert lines["Version"] == "0.1.0"
    assert lines["Operations"] == "uninstall restart"
    assert lines["Config-Url"] == "/addons/cloudconnector/"
    assert lines["Update"] == "/addons/cloudconnector/update-check"
    assert info.stdout.isascii()

    restarted = ccu.rc("restart")
    assert restarted.returncode == 0, restarted.stderr
    second = ccu.pid()
    assert second != first
    assert not alive(first)
    assert alive(second)

    stopped = ccu.rc("stop")
    assert stopped.returncode == 0
    assert not alive(second)
    assert not ccu.pid_file.exists()
    assert ccu.rc("status").returncode == 3

    removed = ccu.rc("uninstall")
    assert removed.returncode == 0, removed.stderr
    assert snapshot(ccu.root) == before


def test_uninstall_stops_a_running_daemon(ccu: Ccu) -> None:
    before = snapshot(ccu.root)
    assert ccu.install().returncode == 0
    pid = ccu.pid()
    assert ccu.rc("uninstall").returncode == 0
    assert not alive(pid)
    assert snapshot(ccu.root) == before


def test_update_keeps_the_configuration_and_restarts(ccu: Ccu) -> None:
    assert ccu.install().returncode == 0
    config = ccu.root / "usr/local/etc/config/addons/cloudconnector/addon.toml"
    config.write_text(
        config.read_text().replace(
            "allowed_lan_targets = []", 'allowed_lan_targets = ["lan:192.168.1.20:80"]'
        )
    )
    first = ccu.pid()
    updated = ccu.install()
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "lan:192.168.1.20:80" in config.read_text()
    assert ccu.pid() != first
    cfg = (ccu.root / "usr/local/etc/config/hm_addons.cfg").read_text()
    assert cfg.count("cloudconnector {") == 1


def test_update_script_refuses_clearly_without_a_suitable_python(ccu: Ccu) -> None:
    before = snapshot(ccu.root)
    refused = ccu.install(CCU_ADDON_PYTHON=str(ccu.root / "no-such-python"))
    assert refused.returncode == 1
    assert "Python >= 3.11" in refused.stdout
    assert "debmatic" in refused.stdout
    assert snapshot(ccu.root) == before
