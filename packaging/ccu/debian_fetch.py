"""Debian binary packages of another architecture, fetched with a private apt state.

The runtime builder takes CPython, OpenSSL, glibc and the add-on's Python dependencies from
Debian's archive (``SUITE``) for the hub's architecture. apt runs with its own state, cache,
sources and status file under ``build/apt/<arch>/`` (the host's dpkg and apt state are never
touched), so any Debian or Ubuntu builder with ``apt-get`` and ``dpkg-deb`` can do it::

    apt-get update --error-on=any      a failed index (a mirror mid-sync) fails the build
    apt-get install --print-uris       the dependency closure, resolved by apt itself
    apt-get download                   only the .debs not yet in build/debs/<arch>/
    dpkg-deb -x                        unpacked into a staging folder

Packages a daemon never needs (tzdata, dpkg, readline, ...) are written into the private
status file as installed, so apt's resolver leaves them out of the closure. Every .deb is
checked against the SHA256 of the signed index before it is used.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

__all__ = ["SUITE", "AptState", "DebPackage", "FetchError", "extract"]

SUITE = "trixie"
MIRRORS = (
    f"http://deb.debian.org/debian {SUITE} main",
    f"http://deb.debian.org/debian {SUITE}-updates main",
    f"http://deb.debian.org/debian-security {SUITE}-security main",
)
_URI_LINE = re.compile(r"^'(?P<url>[^']+)' (?P<file>\S+) (?P<size>\d+)(?: \S+)?$")
_DROPPED_FIELDS = ("Depends", "Pre-Depends", "Recommends", "Suggests", "Breaks", "Conflicts")


class FetchError(RuntimeError):
    """apt or dpkg-deb failed, or a package is not what the index says."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DebPackage:
    """One binary package of the closure."""

    name: str
    version: str
    filename: str
    sha256: str


class AptState:
    """apt for one Debian architecture (``armhf``, ``amd64``, ``arm64``) in a private folder."""

    def __init__(self, arch: str, root: Path) -> None:
        self.arch = arch
        self.root = root

    def _options(self) -> list[str]:
        r = self.root
        return [
            f"-oAPT::Architecture={self.arch}",
            f"-oAPT::Architectures::={self.arch}",
            f"-oDir::State={r / 'state'}",
            f"-oDir::State::status={r / 'state' / 'status'}",
            f"-oDir::Cache={r / 'cache'}",
            f"-oDir::Etc::SourceList={r / 'sources.list'}",
            f"-oDir::Etc::SourceParts={r / 'sources.list.d'}",
            f"-oDir::Etc::Preferences={r / 'preferences'}",
            f"-oDir::Etc::PreferencesParts={r / 'preferences.d'}",
            f"-oDir::Etc::Parts={r / 'apt.conf.d'}",
            "-oDebug::NoLocking=1",
            "-oAPT::Sandbox::User=root",
            "-oAPT::Get::AllowUnauthenticated=false",
        ]

    def _apt(self, tool: str, *args: str, cwd: Path | None = None) -> str:
        command = [tool, *self._options(), *args]
        try:
            done = subprocess.run(  # noqa: S603 - fixed apt tools, arguments from the build script
                command, cwd=cwd, capture_output=True, text=True, check=False, timeout=600
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FetchError(f"{tool} cannot run: {exc}") from exc
        if done.returncode != 0:
            raise FetchError(f"{' '.join([tool, *args])} failed:\n{done.stderr.strip()}")
        return done.stdout

    def update(self) -> None:
        """Fetch the package indexes; any index that fails fails the build."""
        for folder in ("state/lists/partial", "cache/archives/partial", "sources.list.d"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        for folder in ("preferences.d", "apt.conf.d"):
            (self.root / folder).mkdir(exist_ok=True)
        lines = [f"deb [arch={self.arch}] {mirror}" for mirror in MIRRORS]
        (self.root / "sources.list").write_text("\n".join(lines) + "\n")
        (self.root / "state" / "status").write_text("")
        self._apt("apt-get", "update", "-q", "--error-on=any")

    def closure(self, roots: list[str], left_out: list[str]) -> list[DebPackage]:
        """The packages ``roots`` need, resolved by apt, without ``left_out`` and theirs."""
        stanzas = self._apt("apt-cache", "show", "--no-all-versions", *left_out).split("\n\n")
        status = []
        for stanza in filter(str.strip, stanzas):
            kept = [
                line
                for line in _unfold(stanza)
                if not line.startswith(tuple(f"{f}:" for f in _DROPPED_FIELDS))
            ]
            status.append("\n".join([kept[0], "Status: install ok installed", *kept[1:]]))
        (self.root / "state" / "status").write_text("\n\n".join(status) + "\n")
        try:
            out = self._apt(
                "apt-get", "install", "--print-uris", "-qq", "--no-install-recommends", *roots
            )
        finally:
            (self.root / "state" / "status").write_text("")
        wanted = []
        for line in out.splitlines():
            match = _URI_LINE.match(line.strip())
            if match is None:
                continue
            name, version, _ = unquote(match["file"]).removesuffix(".deb").split("_")
            if name not in left_out:  # apt "reinstalls" some left-out ones; they stay out
                wanted.append(f"{name}={version}")
        if not wanted:
            raise FetchError(f"apt resolved no packages for {roots}:\n{out}")
        return sorted(self._packages(wanted), key=lambda p: p.name)

    def single(self, name: str) -> DebPackage:
        """One package without its dependencies (CA certificates, busybox for the tests)."""
        return self._packages([name])[0]

    def _packages(self, specs: list[str]) -> list[DebPackage]:
        """Name, version, file name and SHA256 (from the signed index) of ``name[=version]``."""
        out = self._apt("apt-cache", "show", "--no-all-versions", *specs)
        packages = []
        for stanza in filter(str.strip, out.split("\n\n")):
            fields: dict[str, str] = {}
            for line in _unfold(stanza):
                key, _, value = line.partition(": ")
                fields.setdefault(key, value)
            packages.append(
                DebPackage(
                    name=fields["Package"],
                    version=fields["Version"],
                    # as apt-get download names it: the epoch's colon quoted
                    filename=f"{fields['Package']}_{fields['Version'].replace(':', '%3a')}"
                    f"_{fields['Architecture']}.deb",
                    sha256=fields["SHA256"],
                )
            )
        return packages

    def download(self, packages: list[DebPackage], cache: Path) -> list[Path]:
        """The .debs in ``cache`` (kept by file name, which holds the version), checked."""
        cache.mkdir(parents=True, exist_ok=True)
        missing = [p for p in packages if not _matches(cache / p.filename, p.sha256)]
        if missing:
            self._apt(
                "apt-get",
                "download",
                "-q",
                *(f"{p.name}:{self.arch}={p.version}" for p in missing),
                cwd=cache,
            )
        for package in packages:
            if not _matches(cache / package.filename, package.sha256):
                raise FetchError(f"{package.filename}: not the SHA256 the index names")
        return [cache / p.filename for p in packages]


def _unfold(stanza: str) -> list[str]:
    """The stanza's fields, one per line (continuation lines dropped: only long text)."""
    return [line for line in stanza.strip().splitlines() if line and not line[0].isspace()]


def _matches(path: Path, sha256: str) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def extract(deb: Path, target: Path) -> None:
    """``dpkg-deb -x deb target``."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(  # noqa: S603 - fixed tool
            ["dpkg-deb", "-x", str(deb), str(target)],  # noqa: S607
            check=True,
            capture_output=True,
            timeout=300,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise FetchError(f"dpkg-deb -x {deb.name} failed: {exc}") from exc
