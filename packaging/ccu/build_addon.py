"""Build the CCU add-on archive: ``python packaging/ccu/build_addon.py [--output-dir dist]``.

The archive is what the CCU WebUI installs (Einstellungen > Systemsteuerung >
Zusatzsoftware)::

    update_script                  run by the WebUI from the unpacked archive
    rc.d/cloudconnector            init|start|stop|restart|status|info|uninstall
    addon/VERSION
    addon/etc/paths.sh             paths, overridable by environment variables
    addon/etc/*.in, hm_addons.entry  templates filled in at install time
    addon/lib/ccu_addon/, addon/lib/tunnel/   the daemon's Python sources

Beside it, ``<archive>.sha256`` in ``sha256sum`` format. The archive is reproducible: the
same sources give the same bytes (sorted entries, fixed times and owners).
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


def _tar_bytes(files: list[tuple[str, bytes]]) -> bytes:
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
            info.mode = 0o755 if name in _EXECUTABLE else 0o644
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _parents(directory: str) -> list[str]:
    parts = directory.split("/")
    return ["/".join(parts[: k + 1]) for k in range(len(parts))]


def build_archive(output_dir: Path, *, gateway_url: str = "https://localhost:8443/") -> Path:
    """Write ``cloudconnector-<version>.tar.gz`` and its ``.sha256`` to ``output_dir``."""
    version = project_version()
    payload = _tar_bytes(_members(gateway_url, version))
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=_MTIME, filename="") as gz:
        gz.write(payload)
    output_dir.mkdir(parents=True, exist_ok=True)
    archive = output_dir / f"{ADDON_ID}-{version}.tar.gz"
    archive.write_bytes(compressed.getvalue())
    digest = hashlib.sha256(compressed.getvalue()).hexdigest()
    archive.with_name(archive.name + ".sha256").write_text(f"{digest}  {archive.name}\n")
    return archive


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=ROOT / "dist", help="default: dist/")
    parser.add_argument(
        "--gateway-url", default="https://localhost:8443/", help="gateway of the default config"
    )
    args = parser.parse_args(argv)
    archive = build_archive(args.output_dir, gateway_url=args.gateway_url)
    sys.stdout.write(f"{archive}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
