"""Build the CCU add-on archive: ``python packaging/ccu/build_addon.py [--output-dir dist]``.

The archive is what the CCU WebUI installs (Einstellungen > Systemsteuerung >
Zusatzsoftware)::

    update_script                  run by the WebUI from the unpacked archive
    rc.d/cloudconnector            init|start|stop|restart|status|info|uninstall
    addon/VERSION
    addon/etc/paths.sh             paths, overridable by environment variables
    addon/etc/*.in, hm_addons.entry  templates filled in at install time
    addon/lib/ccu_addon/, addon/lib/tunnel/   the daemon's Python sources

    addon/runtime/                 only in an architecture's archive: the bundled CPython
                                   (addon_runtime.py, ADR 0017)

``--arch none`` (the default) gives ``cloudconnector-<version>.tar.gz`` for hubs with their
own Python >= 3.11 (debmatic, piVCCU); ``--arch armhf|x86-64|aarch64`` gives
``cloudconnector-<version>-<arch>-cpython<debian version>.tar.gz`` with the runtime, whose
``VERSION`` names the runtime too (``<version>+<arch>.cpython<...>``). Beside each archive,
``<archive>.sha256`` in ``sha256sum`` format. The archive is reproducible: the same sources
and packages give the same bytes (sorted entries, fixed times and owners).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import tarfile
import tomllib
from pathlib import Path

from addon_runtime import ARCHES, Runtime, RuntimeBuildError, build_runtime

__all__ = ["ADDON_ID", "build_archive", "main"]

ADDON_ID = "cloudconnector"
ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYTHON_PACKAGES = ("ccu_addon", "tunnel")
_SOURCE_SUFFIXES = {".py", ".typed", ".css", ".html", ".txt"}
_EXECUTABLE = {"update_script", f"rc.d/{ADDON_ID}"}
_MTIME = 1_700_000_000


def project_version() -> str:
    """The version in ``pyproject.toml``."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["version"])


def _members(gateway_url: str, version: str) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = [
        ("update_script", (HERE / "update_script").read_bytes()),
        (f"rc.d/{ADDON_ID}", (HERE / "rc.d" / ADDON_ID).read_bytes()),
        ("addon/VERSION", f"{version}\n".encode()),
    ]
    for path in sorted((HERE / "etc").iterdir()):
        data = path.read_bytes().replace(b"@GATEWAY_URL@", gateway_url.encode())
        files.append((f"addon/etc/{path.name}", data))
    for package in PYTHON_PACKAGES:
        files.extend(
            (f"addon/lib/{path.relative_to(ROOT).as_posix()}", path.read_bytes())
            for path in sorted((ROOT / package).rglob("*"))
            if path.is_file()
            and path.suffix in _SOURCE_SUFFIXES
            and "__pycache__" not in path.parts
        )
    return files


def _runtime_members(runtime: Runtime) -> tuple[list[tuple[str, bytes]], set[str]]:
    files, executable = [], set()
    for path in sorted(runtime.path.rglob("*")):
        if path.is_file():
            name = f"addon/runtime/{path.relative_to(runtime.path).as_posix()}"
            files.append((name, path.read_bytes()))
            if path.stat().st_mode & 0o111:
                executable.add(name)
    return files, executable


def _tar_bytes(files: list[tuple[str, bytes]], executable: set[str] | None = None) -> bytes:
    executable = _EXECUTABLE | (executable or set())
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        dirs = sorted({str(Path(name).parent) for name, _ in files} - {"."})
        for directory in sorted({p for d in dirs for p in _parents(d)}):
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, _MTIME
            tar.addfile(info)
        for name, data in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), _MTIME
            info.mode = 0o755 if name in executable else 0o644
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _parents(directory: str) -> list[str]:
    parts = directory.split("/")
    return ["/".join(parts[: k + 1]) for k in range(len(parts))]


def build_archive(
    output_dir: Path,
    *,
    gateway_url: str = "https://localhost:8443/",
    runtime: Runtime | None = None,
) -> Path:
    """Write the archive (with ``runtime`` bundled, if given) and its ``.sha256``."""
    version = project_version()
    name = f"{ADDON_ID}-{version}"
    executable: set[str] = set()
    if runtime is None:
        files = _members(gateway_url, version)
    else:
        name = f"{name}-{runtime.arch.name}-{runtime.tag}"
        rt_version = f"{version}+{runtime.arch.name}.{runtime.tag.replace('+', '.')}"
        files = _members(gateway_url, rt_version)
        extra, executable = _runtime_members(runtime)
        files.extend(extra)
    payload = _tar_bytes(files, executable)
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=_MTIME, filename="") as gz:
        gz.write(payload)
    output_dir.mkdir(parents=True, exist_ok=True)
    archive = output_dir / f"{name}.tar.gz"
    archive.write_bytes(compressed.getvalue())
    digest = hashlib.sha256(compressed.getvalue()).hexdigest()
    archive.with_name(archive.name + ".sha256").write_text(f"{digest}  {archive.name}\n")
    return archive


def build_runtimes(arches: list[str], build_dir: Path) -> list[Runtime]:
    """The runtimes for ``arches``; x86-64 first, as it compiles the others' byte code."""
    native = build_runtime(ARCHES["x86-64"], build_dir)
    compiler = native.path / "bin" / "python3"
    return [
        native if arch == "x86-64" else build_runtime(ARCHES[arch], build_dir, compiler=compiler)
        for arch in arches
    ]


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=ROOT / "dist", help="default: dist/")
    parser.add_argument(
        "--gateway-url", default="https://localhost:8443/", help="gateway of the default config"
    )
    parser.add_argument(
        "--arch",
        action="append",
        choices=["none", *ARCHES],
        help="none (no bundled Python; default), or a hub architecture; repeatable",
    )
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build", help="default: build/")
    args = parser.parse_args(argv)
    arches = args.arch or ["none"]
    if "none" in arches:
        archive = build_archive(args.output_dir, gateway_url=args.gateway_url)
        sys.stdout.write(f"{archive}\n")
    wanted = [arch for arch in arches if arch != "none"]
    try:
        runtimes = build_runtimes(wanted, args.build_dir) if wanted else []
    except RuntimeBuildError as exc:
        sys.stderr.write(f"build_addon: {exc}\n")
        return 1
    for runtime in runtimes:
        archive = build_archive(args.output_dir, gateway_url=args.gateway_url, runtime=runtime)
        sys.stdout.write(f"{archive}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
