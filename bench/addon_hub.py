"""``python -m bench addon --arch armhf``: the architecture archive on a bare hub root.

The archive with the bundled Python (``make addon``) is unpacked into a root holding only
Debian's static busybox of that architecture (:mod:`bench._hubroot`) and installed there by
its own ``update_script``; ``rc.d start`` starts the daemon, the bench plays the owner
(pairing code off the dashboard, claimed in the portal) against a gateway and a simulated
CCU on the host, as :mod:`bench.addon` does, and waits for the tunnel. armhf runs under
``qemu-user-static`` as a Cortex-A7 (a CCU3, a Pi 2): slower than the hub by a small factor.

Metrics:

* ``archive_mib``: the archive's size; ``installed_mib``: ``/usr/local/addons/cloudconnector``
  on the hub after installation (program and runtime).
* ``install_to_tunnel_s``: from running ``update_script`` to the gateway's live tunnel
  (installation, start, enrolment, restart through the wrapper, TLS with the new
  certificate); ``start_s``: ``rc.d start`` until the daemon's dashboard listens;
  ``install_s``: ``update_script`` alone.
* ``idle_rss_mb``: the enrolled daemon's resident memory, largest over the idle window.
  Under qemu-user ``VmRSS`` counts the translator too; the guest's own memory is what lies in
  its 4 GiB address space, which the bench pins (``QEMU_GUEST_BASE``) and sums from
  ``/proc/PID/smaps``. Natively (x86-64) it is ``VmRSS``.

Ratios: ``idle_rss_vs_goal`` (20 MiB), ``archive_vs_goal`` (15 MiB), ``install_vs_goal``
(30 s). The bench reports; it asserts nothing.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from bench._hubroot import ROOT, HubRoot, build_arch_archive, busybox
from bench._procfs import rss_kib
from bench.addon import (
    FULL,
    SMOKE,
    Window,
    addon_config,
    claim,
    free_port,
    gateway_and_ccu,
    pairing_code,
    tunnel_up,
)
from cloud_gateway.server import RunningGateway
from simulator.ccu import SimulatedCcu

__all__ = ["GUEST_BASE", "RCD", "STATE", "configure", "guest_rss_kib", "run"]

GUEST_BASE: Final = 0x10_0000_0000
"""Where qemu-user puts a 32-bit guest's 4 GiB (64 GiB up: free on any 64-bit host)."""
_GUEST_SIZE: Final = 1 << 32
_DEBIAN: Final = {"armhf": "armhf", "x86-64": "amd64", "aarch64": "arm64"}
_CPU: Final = {"armhf": "cortex-a7", "x86-64": None, "aarch64": "cortex-a53"}
STATE: Final = "/usr/local/etc/config/addons/cloudconnector"
RCD: Final = "/usr/local/etc/config/rc.d/cloudconnector"
RSS_GOAL_MB: Final = 20.0
ARCHIVE_GOAL_MIB: Final = 15.0
INSTALL_GOAL_S: Final = 30.0


def run(*, smoke: bool, arch: str) -> dict[str, Any]:
    """Install, enrol and watch the add-on of ``arch`` on a bare hub root."""
    return asyncio.run(_bench(arch, SMOKE if smoke else FULL))


def guest_rss_kib(pid: int) -> int:
    """Resident KiB of the mappings inside the guest's pinned 4 GiB (see module docstring)."""
    total, inside = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(maxsplit=1)[0]
        if "-" in head and not head.endswith(":"):
            start = int(head.split("-")[0], 16)
            inside = GUEST_BASE <= start < GUEST_BASE + _GUEST_SIZE
        elif inside and head == "Rss:":
            total += int(line.split()[1])
    return total


async def _bench(arch: str, window: Window) -> dict[str, Any]:
    build = ROOT / "build"
    archive = await asyncio.to_thread(build_arch_archive, arch, build, build / "dist-bench")
    box = await asyncio.to_thread(busybox, _DEBIAN[arch], build)
    emulated = _CPU[arch] is not None
    with tempfile.TemporaryDirectory(prefix="bench-addon-hub-") as tmp:
        folder = Path(tmp)
        root = HubRoot.make(folder / "hub", box, qemu_cpu=_CPU[arch])
        if emulated:
            root.env["QEMU_GUEST_BASE"] = hex(GUEST_BASE)
        upload = root.unpack(archive)
        port = free_port()
        async with gateway_and_ccu(folder / "sys") as (gateway, ccu):
            began = time.monotonic()
            installed = await asyncio.to_thread(
                root.run,
                f"{upload}/update_script",
                "HM-RASPBERRYMATIC",
                CCU_ADDON_LISTEN_PORT=str(port),
                CCU_ADDON_START_AFTER_INSTALL="no",
            )
            install_s = time.monotonic() - began
            if installed.returncode != 0:
                raise RuntimeError(f"update_script failed: {installed.stdout}{installed.stderr}")
            configure(root, gateway, ccu, port)
            start_began = time.monotonic()
            started = await asyncio.to_thread(root.run, RCD, "start")
            start_s = time.monotonic() - start_began
            if started.returncode != 0:
                raise RuntimeError(f"rc.d start failed: {started.stdout}{started.stderr}")
            pid = int((root.path / "var/run/cloudconnector.pid").read_text())
            try:
                async with asyncio.timeout(window.setup_limit_s * 2):
                    code = await pairing_code(ccu, port)
                    await claim(gateway, code)
                    await tunnel_up(gateway)
                install_to_tunnel_s = time.monotonic() - began
                await asyncio.sleep(window.settle_s)
                peak = await _watch(pid, window, emulated=emulated)
            finally:
                await asyncio.to_thread(root.run, RCD, "stop")
        installed_bytes = sum(
            p.stat().st_size
            for p in (root.path / "usr/local/addons/cloudconnector").rglob("*")
            if p.is_file()
        )
    metrics: dict[str, Any] = {
        "arch": arch,
        "idle_rss_mb": round(peak / 1024, 2),
        "archive_mib": round(archive.stat().st_size / 2**20, 2),
        "installed_mib": round(installed_bytes / 2**20, 2),
        "install_to_tunnel_s": round(install_to_tunnel_s, 2),
        "install_s": round(install_s, 2),
        "start_s": round(start_s, 2),
    }
    ratios = {
        "idle_rss_vs_goal": round(peak / 1024 / RSS_GOAL_MB, 3),
        "archive_vs_goal": round(metrics["archive_mib"] / ARCHIVE_GOAL_MIB, 3),
        "install_vs_goal": round(install_to_tunnel_s / INSTALL_GOAL_S, 3),
    }
    return {"metrics": metrics, "ratios": ratios}


def configure(root: HubRoot, gateway: RunningGateway, ccu: SimulatedCcu, port: int) -> None:
    """Point the installed add-on at this gateway (its CA copied in) and simulated CCU."""
    assert gateway.tls.ca_cert is not None  # the gateway made its own CA
    state = root.path / STATE.lstrip("/")
    shutil.copy(gateway.tls.ca_cert, state / "gateway-ca.crt")
    text = addon_config(
        state_dir=STATE, ca_file=f"{STATE}/gateway-ca.crt", gateway=gateway, ccu=ccu, port=port
    )
    (state / "addon.toml").write_text(text)


async def _watch(pid: int, window: Window, *, emulated: bool) -> int:
    """The largest resident KiB (guest's own when emulated) over the idle window."""
    measure = guest_rss_kib if emulated else rss_kib
    loop = asyncio.get_running_loop()
    end = loop.time() + window.idle_s
    peak = measure(pid)
    while (now := loop.time()) < end:
        await asyncio.sleep(min(window.sample_s, end - now))
        peak = max(peak, measure(pid))
    return peak
