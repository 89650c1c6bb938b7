"""The architecture archives with their own Python, on bare hub roots (issue 17).

Each test unpacks an archive into a root that holds nothing but Debian's static busybox of
the hub's architecture (:mod:`bench._hubroot`) and runs the add-on's own scripts there:
``update_script``, ``rc.d start``, enrolment against a real gateway on the host (pairing
code read off the dashboard, claimed in the portal, the daemon's restart through the
runtime's wrapper, tunnel up over TLS with the client certificate), ``rc.d stop`` and
``uninstall``. armhf runs under ``qemu-user-static`` as a Cortex-A7 (CCU3, Pi 2).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench._hubroot import (
    AARCH64_ONLY,
    HubRoot,
    build_arch_archive,
    busybox,
    hub_root_unavailable,
    snapshot,
)
from bench.addon import claim, free_port, gateway_and_ccu, pairing_code, tunnel_up
from bench.addon_hub import RCD, STATE, configure

BUILD = Path(__file__).resolve().parents[2] / "build"
DEBIAN = {"armhf": "armhf", "x86-64": "amd64"}
CPU = {"armhf": "cortex-a7", "x86-64": None}


@pytest.fixture(scope="session")
def archives() -> dict[str, Path]:
    """The armhf and x86-64 archives, built once per session (runtimes cached in build/)."""
    return {arch: build_arch_archive(arch, BUILD, BUILD / "dist-test") for arch in DEBIAN}


def _root(tmp_path: Path, debian_arch: str, qemu_cpu: str | None) -> HubRoot:
    reason = hub_root_unavailable(debian_arch)
    if reason is not None:
        pytest.skip(reason)
    return HubRoot.make(tmp_path / "hub", busybox(debian_arch, BUILD), qemu_cpu=qemu_cpu)


@pytest.fixture(params=["x86-64", "armhf"])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, HubRoot]]:
    arch = str(request.param)
    root = _root(tmp_path, DEBIAN[arch], CPU[arch])
    try:
        yield arch, root
    finally:
        if (root.path / RCD.lstrip("/")).exists():
            root.run(RCD, "stop")


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


async def test_installs_enrols_and_uninstalls_on_a_bare_hub_root(
    hub: tuple[str, HubRoot], archives: dict[str, Path], tmp_path: Path
) -> None:
    arch, root = hub
    upload = root.unpack(archives[arch])
    before = snapshot(root.path)
    port = free_port()
    installed = await asyncio.to_thread(
        root.run,
        f"{upload}/update_script",
        "HM-RASPBERRYMATIC",
        CCU_ADDON_LISTEN_PORT=str(port),
        CCU_ADDON_START_AFTER_INSTALL="no",
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "using /usr/local/addons/cloudconnector/runtime/bin/python3" in installed.stdout
    addon = root.path / "usr/local/addons/cloudconnector"
    assert (addon / "runtime/ARCH").read_text().strip() == arch
    assert "+" in (addon / "VERSION").read_text()  # the version names the runtime

    async with gateway_and_ccu(tmp_path / "sys") as (gateway, ccu):
        configure(root, gateway, ccu, port)
        state = root.path / STATE.lstrip("/")
        started = await asyncio.to_thread(root.run, RCD, "start")
        assert started.returncode == 0, started.stdout + started.stderr
        pid = int((root.path / "var/run/cloudconnector.pid").read_text())
        async with asyncio.timeout(120):
            code = await pairing_code(ccu, port)  # the dashboard answers
            await claim(gateway, code)
            await tunnel_up(gateway)  # TLS with the issued client certificate
        # The daemon restarted itself after enrolment: same pid, through the wrapper's loader.
        assert _alive(pid)
        cmdline, maps = _process_view(pid)
        assert any(part.endswith(b"/so/ld-linux-" + _loader(arch)) for part in cmdline)
        assert "/cryptography/" not in maps  # enrolled: runs without cryptography
        assert (state / "device.crt").is_file()

        stopped = await asyncio.to_thread(root.run, RCD, "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert not _alive(pid)

    removed = await asyncio.to_thread(root.run, RCD, "uninstall")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert snapshot(root.path) == before


def _process_view(pid: int) -> tuple[list[bytes], str]:
    """The process's command line and mapped files (as the host sees them)."""
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return cmdline, Path(f"/proc/{pid}/maps").read_text()


def _loader(arch: str) -> bytes:
    return {"armhf": b"armhf.so.3", "x86-64": b"x86-64.so.2"}[arch]


def _refused(root: HubRoot, archive: Path) -> str:
    """Install ``archive`` in ``root``; assert it is refused with nothing changed; its words."""
    upload = root.unpack(archive)
    before = snapshot(root.path)
    refused = root.run(f"{upload}/update_script", "HM-RASPBERRYMATIC")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert snapshot(root.path) == before
    return refused.stdout


def test_armhf_archive_is_refused_on_armv6(archives: dict[str, Path], tmp_path: Path) -> None:
    """An ARMv6 hub (Pi Zero/1) runs Debian's armel busybox; the armhf runtime cannot run."""
    said = _refused(_root(tmp_path, "armel", "arm1176"), archives["armhf"])
    assert "this hub has an ARMv6 processor (armv6l: Raspberry Pi Zero or 1)" in said
    assert "needs ARMv7 or newer" in said


def test_armhf_archive_is_refused_on_an_aarch64_system_without_32_bit_support(
    archives: dict[str, Path], tmp_path: Path
) -> None:
    """A user namespace with its own binfmt_misc that knows only aarch64: armhf cannot run."""
    reason = hub_root_unavailable("amd64")  # root: the namespace needs no host registration
    if reason is None and not Path("/usr/libexec/qemu-binfmt/aarch64-binfmt-P").exists():
        reason = "qemu-user-static is not installed"
    if reason is not None:
        pytest.skip(reason)
    root = HubRoot.make(
        tmp_path / "hub", busybox("arm64", BUILD), qemu_cpu=None, only_binfmt=AARCH64_ONLY
    )
    if root.run("/bin/uname", "-m").stdout.strip() != "aarch64":
        pytest.skip("no binfmt_misc of its own in a user namespace here (Linux >= 6.7)")
    said = _refused(root, archives["armhf"])
    assert "this hub's 64-bit ARM system cannot run 32-bit ARM programs" in said
    assert "for aarch64 instead" in said


def test_an_archive_for_another_architecture_is_refused(
    archives: dict[str, Path], tmp_path: Path
) -> None:
    said = _refused(_root(tmp_path, "armhf", "cortex-a7"), archives["x86-64"])
    assert "this archive is for x86-64 hubs; this hub's processor is armv7l" in said
    assert "Install the archive for armhf instead" in said


_INTERPRETER_CHECK = """
import json, platform, ssl, sys
import h11, wsproto
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub")])
csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
print(json.dumps({"machine": platform.machine(), "version": list(sys.version_info[:2]),
                  "openssl": ssl.OPENSSL_VERSION, "csr": csr.is_signature_valid,
                  "executable": sys.executable}))
"""


def test_armhf_interpreter_runs_under_qemu_arm_static_directly(
    archives: dict[str, Path], tmp_path: Path
) -> None:
    """Without binfmt_misc too: the bundled loader and interpreter, run by the emulator."""
    qemu = shutil.which("qemu-arm-static")
    if qemu is None:
        pytest.skip("qemu-user-static is not installed")
    with tarfile.open(archives["armhf"]) as tar:
        tar.extractall(tmp_path, filter="tar")
    rt = tmp_path / "addon/runtime"
    done = subprocess.run(
        [
            qemu,
            "-cpu",
            "cortex-a7",
            str(rt / "so/ld-linux-armhf.so.3"),
            "--library-path",
            str(rt / "so"),
            "--argv0",
            str(rt / "bin/python3"),
            str(rt / "bin/python3.13"),
            "-s",
            "-c",
            _INTERPRETER_CHECK,
        ],
        env={"OPENSSL_CONF": str(rt / "openssl.cnf"), "CRYPTOGRAPHY_OPENSSL_NO_LEGACY": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["machine"] == "armv7l"
    assert seen["version"] == [3, 13]
    assert seen["openssl"].startswith("OpenSSL 3.")
    assert seen["csr"] is True
    assert seen["executable"] == str(rt / "bin/python3")
