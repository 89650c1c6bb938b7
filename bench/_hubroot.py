"""A bare hub root: Debian's static busybox of the hub's architecture, and nothing else.

Used by the add-on's install tests and ``python -m bench addon --arch``: the archive for an
architecture is unpacked into such a root and installed, started, enrolled, stopped and
removed there by its own scripts, run by ``chroot`` in a private mount namespace (``/proc``
mounted inside it; it goes away with the namespace). Foreign architectures run through
Debian's ``qemu-user-static`` registered with ``binfmt_misc`` (flag F, so the emulator needs
no file in the root); ``QEMU_CPU`` picks the processor (``cortex-a7`` for a CCU3/Pi 2,
``arm1176`` for an ARMv6 Pi Zero/1).

Besides busybox (and its applet links) the root holds what every hub has and a bare
``chroot`` lacks: ``/dev/null``, ``/dev/zero``, ``/dev/urandom``, ``/etc/hosts`` with
``localhost``, the folders of :data:`CCU_FOLDERS` and an empty ``hm_addons.cfg``.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging" / "ccu"))

from build_addon import build_archive, build_runtimes  # noqa: E402
from debian_fetch import AptState, extract  # noqa: E402

__all__ = [
    "AARCH64_ONLY",
    "BINFMT",
    "CCU_FOLDERS",
    "AptState",
    "HubRoot",
    "build_arch_archive",
    "build_runtimes",
    "busybox",
    "extract",
    "hub_root_unavailable",
    "snapshot",
]

BINFMT: Final = Path("/proc/sys/fs/binfmt_misc")
CCU_FOLDERS: Final = (
    "tmp",
    "proc",
    "usr/local/addons",
    "usr/local/etc/config/rc.d",
    "usr/local/etc/config/addons/www",
    "usr/local/etc/config/lighttpd",
    "var/run",
    "var/log",
)
AARCH64_ONLY: Final = (
    r":qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00"
    r":\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"
    ":/usr/libexec/qemu-binfmt/aarch64-binfmt-P:PF"
)
"""qemu-aarch64 alone, as Debian's qemu-user-static registers it (``HubRoot.only_binfmt``)."""
_QEMU_NAMES: Final = {"armhf": "qemu-arm", "armel": "qemu-arm", "arm64": "qemu-aarch64"}
_DEVICES: Final = {"null": (1, 3), "zero": (1, 5), "random": (1, 8), "urandom": (1, 9)}


def hub_root_unavailable(debian_arch: str) -> str | None:
    """None when a hub root of ``debian_arch`` can run here, else why not (for a skip)."""
    if os.geteuid() != 0:
        return "a hub root needs root (mknod, mount, chroot)"
    name = _QEMU_NAMES.get(debian_arch)
    if name is None:
        return None
    entry = BINFMT / name
    if not entry.is_file():
        return f"binfmt_misc has no {name} entry (install qemu-user-static, binfmt-support)"
    text = entry.read_text()
    if not text.startswith("enabled"):
        return f"binfmt_misc: {name} is disabled"
    if "flags: " not in text or "F" not in text.split("flags: ", 1)[1].split()[0]:
        return f"binfmt_misc: {name} lacks flag F (the emulator must be opened at registration)"
    return None


def busybox(debian_arch: str, build_dir: Path) -> Path:
    """Debian's ``busybox-static`` binary for ``debian_arch`` (fetched once, cached)."""
    target = build_dir / "busybox" / debian_arch / "busybox"
    apt = AptState(debian_arch, build_dir / "apt" / debian_arch)
    if not (build_dir / "apt" / debian_arch / "state" / "lists").is_dir():
        apt.update()
    package = apt.single("busybox-static")
    stamp = target.with_name("VERSION")
    if target.is_file() and stamp.is_file() and stamp.read_text() == package.version:
        return target
    [deb] = apt.download([package], build_dir / "debs" / debian_arch)
    staging = build_dir / "staging" / f"busybox-{debian_arch}"
    shutil.rmtree(staging, ignore_errors=True)
    extract(deb, staging)
    target.parent.mkdir(parents=True, exist_ok=True)
    binary = next(p for p in (staging / "usr/bin/busybox", staging / "bin/busybox") if p.is_file())
    shutil.copy2(binary, target)
    stamp.write_text(package.version)
    shutil.rmtree(staging)
    return target


def build_arch_archive(arch: str, build_dir: Path, output_dir: Path) -> Path:
    """The add-on archive with the runtime for ``arch`` (runtimes cached in ``build_dir``)."""
    [runtime] = build_runtimes([arch], build_dir)
    return build_archive(output_dir, gateway_url="https://localhost:8443/", runtime=runtime)


def snapshot(root: Path) -> dict[str, bytes | str | None]:
    """Every path under ``root``: file bytes, link target, or None for folders and nodes."""
    found: dict[str, bytes | str | None] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = str(path.readlink())
        elif path.is_file():
            found[key] = path.read_bytes()
        else:
            found[key] = None
    return found


@dataclass(slots=True, kw_only=True)
class HubRoot:
    """A bare root folder and how to run commands in it."""

    path: Path
    qemu_cpu: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    only_binfmt: str | None = None
    """A ``binfmt_misc`` registration line: run in a user namespace whose own, fresh
    ``binfmt_misc`` knows only this one (a 64-bit ARM system without 32-bit support)."""

    @classmethod
    def make(
        cls,
        path: Path,
        busybox_binary: Path,
        *,
        qemu_cpu: str | None = None,
        only_binfmt: str | None = None,
    ) -> HubRoot:
        """Lay out the root and install busybox's applet links (run by busybox itself)."""
        for folder in ("bin", "dev", "etc", *CCU_FOLDERS):
            (path / folder).mkdir(parents=True, exist_ok=True)
        (path / "tmp").chmod(0o1777)
        for name, (major, minor) in _DEVICES.items():
            os.mknod(path / "dev" / name, stat.S_IFCHR | 0o666, os.makedev(major, minor))
        (path / "etc" / "hosts").write_text("127.0.0.1 localhost\n")
        (path / "usr/local/etc/config/hm_addons.cfg").write_text("")  # the firmware's, empty
        shutil.copy2(busybox_binary, path / "bin" / "busybox")
        root = cls(path=path, qemu_cpu=qemu_cpu, only_binfmt=only_binfmt)
        done = root.run("/bin/busybox", "--install", "-s", "/bin")
        if done.returncode != 0:
            raise RuntimeError(f"busybox --install failed: {done.stderr}")
        return root

    def unpack(self, archive: Path, folder: str = "tmp/upload") -> str:
        """Unpack the add-on archive where the WebUI would (``/tmp/...``); its path inside."""
        with tarfile.open(archive) as tar:
            tar.extractall(self.path / folder, filter="tar")
        return f"/{folder}"

    def run(self, *argv: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` in the root (chroot, own mount namespace with /proc)."""
        environment = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/", **self.env, **env}
        if self.qemu_cpu is not None:
            environment["QEMU_CPU"] = self.qemu_cpu
        chroot = shutil.which("chroot", path=environment["PATH"]) or "chroot"
        script = f'mount -t proc proc "$0/proc" && PATH=/bin exec {chroot} "$0" "$@"'
        command = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c"]
        if self.only_binfmt is not None:
            environment["BINFMT_LINE"] = self.only_binfmt
            script = (
                f"mount -t binfmt_misc binfmt_misc {BINFMT} && "
                f'printf "%s" "$BINFMT_LINE" > {BINFMT}/register && {script}'
            )
            command[1:1] = ["--user", "--map-root-user", "--pid", "--fork"]
        return subprocess.run(
            [*command, script, str(self.path), *argv],
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
