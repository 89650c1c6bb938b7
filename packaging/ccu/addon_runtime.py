"""The add-on's own Python for one hub architecture: a trimmed, relocatable CPython (ADR 0017).

Built from Debian's binary packages (:mod:`debian_fetch`) into ``build/runtime/<arch>/``::

    bin/python3           sh wrapper: the bundled loader runs the bundled interpreter
    bin/python3.13        Debian's interpreter (ELF of the hub's architecture)
    lib/python3.13/       the standard library, trimmed, byte code beside it
    lib/python3/dist-packages/   h11, wsproto, cryptography (+ cffi backend, websockets)
    so/                   ld-linux-*.so, libc, libssl, libcrypto, libffi, zlib, expat, ...
    ARCH, RUNTIME, MANIFEST       arch name; versions; package, version, sha256 per .deb
    ca-certificates.crt   Mozilla's CA bundle (for hubs without /etc/ssl/certs)
    copyright/<package>   Debian's copyright file of each bundled package

The wrapper runs ``so/ld-linux-*.so --library-path so --argv0 bin/python3 bin/python3.13``:
the hub's libc and loader never matter, nothing is exported to child processes (no
LD_LIBRARY_PATH), and ``sys.executable`` is the wrapper, so a restart through
``os.execv(sys.executable, ...)`` goes through it again. CPython finds its prefix from that
path (``lib/python3.13/os.py`` beside ``bin/``), so the folder can live anywhere.

The build fails when any kept ELF file needs a library that is not in ``so/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from debian_fetch import SUITE, AptState, FetchError, extract
from elf_needed import is_elf, read_elf

__all__ = ["ARCHES", "Arch", "Runtime", "RuntimeBuildError", "build_runtime"]

PY = "3.13"


@dataclass(frozen=True, slots=True, kw_only=True)
class Arch:
    """A hub architecture: our name, Debian's, the loader and the ELF machine number."""

    name: str
    debian: str
    triplet: str
    loader: str
    machine: int


ARCHES: dict[str, Arch] = {
    "armhf": Arch(
        name="armhf",
        debian="armhf",
        triplet="arm-linux-gnueabihf",
        loader="ld-linux-armhf.so.3",
        machine=40,
    ),
    "x86-64": Arch(
        name="x86-64",
        debian="amd64",
        triplet="x86_64-linux-gnu",
        loader="ld-linux-x86-64.so.2",
        machine=62,
    ),
    "aarch64": Arch(
        name="aarch64",
        debian="arm64",
        triplet="aarch64-linux-gnu",
        loader="ld-linux-aarch64.so.1",
        machine=183,
    ),
}

ROOTS = [
    f"python{PY}-minimal",
    f"libpython{PY}-minimal",
    f"libpython{PY}-stdlib",
    "python3-h11",
    "python3-wsproto",
    "python3-cryptography",
    "python3-websockets",
]
# Never needed by the daemon; apt is told they are installed so they stay out of the closure.
LEFT_OUT = [
    "python3",
    "python3-minimal",
    f"python{PY}",
    "libpython3-stdlib",
    "python3-bcrypt",
    "openssl-provider-legacy",
    "media-types",
    "netbase",
    "tzdata",
    "debconf",
    "dpkg",
    "tar",
    "readline-common",
    "libreadline8t64",
    "libncursesw6",
    "libtinfo6",
    "libdb5.3t64",
    "libsqlite3-0",
    "libuuid1",
    "liblzma5",
    "libbz2-1.0",
    "libselinux1",
    "libpcre2-8-0",
    "libacl1",
    "libmd0",
]
# Standard library parts a daemon never imports.
TRIM_STDLIB = [
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "turtle.py",
    "ensurepip",
    "lib2to3",
    "pydoc_data",
    "pydoc.py",
    "venv",
    "sqlite3",
    "dbm",
    "curses",
    "config-3.13-{triplet}",
    "__phello__",
    "_pyrepl",
    "doctest.py",
    "multiprocessing",
    "ctypes",
    "wsgiref",
    "xml/dom",
    "xml/sax",
    "xml/etree",
    "_pydecimal.py",
    "pdb.py",
]
# C modules whose libraries are left out or that only serve tests and interactive use.
TRIM_DYNLOAD = (
    "_test",
    "_xxtestfuzz",
    "xxlimited",
    "xxsubtype",
    "_ctypes_test",
    "_curses",
    "readline",
    "_dbm",
    "_gdbm",
    "_sqlite3",
    "_lzma",
    "_bz2",
    "_uuid",
    "_codecs_",
    "_multibytecodec",
    "_interp",
    "_lsprof",
    "_multiprocessing",
    "_posixshmem",
    "_ctypes",
)
# The codecs kept (the rest of encodings/ goes): Unicode, Latin-1 (the CCU's XML-RPC), IDNA.
KEEP_CODECS = {
    "__init__",
    "aliases",
    "ascii",
    "latin_1",
    "utf_8",
    "utf_8_sig",
    "utf_16",
    "utf_16_be",
    "utf_16_le",
    "utf_32",
    "utf_32_be",
    "utf_32_le",
    "idna",
    "punycode",
    "charmap",
    "cp1252",
    "cp437",
    "iso8859_15",
    "raw_unicode_escape",
    "unicode_escape",
    "base64_codec",
    "hex_codec",
}
TRIM_DIST_PACKAGES = ("bcrypt",)
# websockets: only its C masking helper is used (loaded from its file, tunnel/ws_frames.py).
KEEP_WEBSOCKETS = ("__init__.py", "imports.py", "version.py", "speedups.")


class RuntimeBuildError(RuntimeError):
    """The runtime cannot be built (root error of the runtime builder)::

    RuntimeBuildError
    └── from FetchError (apt, dpkg-deb), OSError, a missing NEEDED library
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    """A built runtime folder and what it carries."""

    arch: Arch
    path: Path
    tag: str
    """``cpython<version>``: Debian's version of the interpreter package, for the archive."""


def build_runtime(arch: Arch, build_dir: Path, *, compiler: Path | None = None) -> Runtime:
    """Build (or reuse, when the packages are unchanged) the runtime for ``arch``.

    ``compiler`` is an interpreter of the same CPython version that runs on the builder (the
    x86-64 runtime); without it the runtime compiles its own byte code (it must run here).
    """
    try:
        return _build(arch, build_dir, compiler)
    except (FetchError, OSError, subprocess.SubprocessError) as exc:
        raise RuntimeBuildError(f"runtime for {arch.name}: {exc}") from exc


def _build(arch: Arch, build_dir: Path, compiler: Path | None) -> Runtime:
    apt = AptState(arch.debian, build_dir / "apt" / arch.debian)
    apt.update()
    packages = [*apt.closure(ROOTS, LEFT_OUT), apt.single("ca-certificates")]
    manifest = "".join(f"{p.name} {p.version} {p.sha256}\n" for p in packages)
    interpreter = next(p for p in packages if p.name == f"python{PY}-minimal")
    tag = f"cpython{interpreter.version.replace('~', '.')}"
    out = build_dir / "runtime" / arch.name
    if (out / "MANIFEST").is_file() and (out / "MANIFEST").read_text() == manifest:
        return Runtime(arch=arch, path=out, tag=tag)
    debs = apt.download(packages, build_dir / "debs" / arch.debian)
    staging = build_dir / "staging" / arch.name
    shutil.rmtree(staging, ignore_errors=True)
    for deb in debs:
        extract(deb, staging)
    _anchor_symlinks(staging)
    shutil.rmtree(out, ignore_errors=True)
    _assemble(arch, staging, out)
    check_closure(arch, out)
    _compile(out, compiler or out / "bin" / "python3")
    versions = {p.name: p.version for p in packages}
    (out / "RUNTIME").write_text(
        f"python {versions[f'python{PY}-minimal']}\nopenssl {versions['libssl3t64']}\n"
        f"glibc {versions['libc6']}\ndebian {SUITE}\n"
    )
    (out / "ARCH").write_text(f"{arch.name}\n")
    (out / "MANIFEST").write_text(manifest)
    shutil.rmtree(staging)
    return Runtime(arch=arch, path=out, tag=tag)


def _anchor_symlinks(staging: Path) -> None:
    """Point absolute symlinks (``/etc/python3.13/...``) into the staging root, not the host."""
    for link in staging.rglob("*"):
        if link.is_symlink() and (target := str(link.readlink())).startswith("/"):
            link.unlink()
            link.symlink_to(staging / target.lstrip("/"))


def _assemble(arch: Arch, staging: Path, out: Path) -> None:
    usr = staging / "usr"
    (out / "bin").mkdir(parents=True)
    shutil.copy2(usr / "bin" / f"python{PY}", out / "bin" / f"python{PY}")
    stdlib = out / "lib" / f"python{PY}"
    shutil.copytree(usr / "lib" / f"python{PY}", stdlib, ignore_dangling_symlinks=True)
    for name in TRIM_STDLIB:
        target = stdlib / name.format(triplet=arch.triplet)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    for module in (stdlib / "lib-dynload").iterdir():
        if module.name.startswith(TRIM_DYNLOAD):
            module.unlink()
    for codec in (stdlib / "encodings").glob("*.py"):
        if codec.stem not in KEEP_CODECS:
            codec.unlink()
    for cache in stdlib.rglob("__pycache__"):
        shutil.rmtree(cache)
    site = out / "lib" / "python3" / "dist-packages"
    shutil.copytree(usr / "lib" / "python3" / "dist-packages", site, ignore_dangling_symlinks=True)
    for entry in list(site.iterdir()):
        if entry.name.startswith(TRIM_DIST_PACKAGES):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for entry in list((site / "websockets").iterdir()):
        if not entry.name.startswith(KEEP_WEBSOCKETS):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    libs = out / "so"
    libs.mkdir()
    for folder in (staging / "lib" / arch.triplet, usr / "lib" / arch.triplet):
        if folder.is_dir():
            for lib in folder.iterdir():
                if ".so" in lib.name and (lib.is_file() or lib.is_symlink()):
                    shutil.copy2(lib, libs / lib.name, follow_symlinks=True)
    loader = next(staging.rglob(arch.loader))
    shutil.copy2(loader, libs / arch.loader, follow_symlinks=True)
    _unneeded_libraries(arch, out)
    wrapper = out / "bin" / "python3"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# CloudConnector add-on: the bundled CPython, run by the bundled dynamic loader\n"
        "# (the hub's libc never matters; no LD_LIBRARY_PATH for child processes). OpenSSL\n"
        "# reads our (empty) configuration, never the host's, and loads no provider module;\n"
        "# Mozilla's CA bundle where the hub has none at Debian's path.\n"
        'rt=$(cd "${0%/*}/.." && pwd) || exit 127\n'
        'export OPENSSL_CONF="$rt/openssl.cnf" CRYPTOGRAPHY_OPENSSL_NO_LEGACY=1\n'
        'if [ -z "${SSL_CERT_FILE:-}" ] && [ ! -r /etc/ssl/certs/ca-certificates.crt ]; then\n'
        '    export SSL_CERT_FILE="$rt/ca-certificates.crt"\n'
        "fi\n"
        f'exec "$rt/so/{arch.loader}" --library-path "$rt/so" --argv0 "$rt/bin/python3" \\\n'
        f'    "$rt/bin/python{PY}" -s "$@"\n'
    )
    (out / "openssl.cnf").write_text("# empty: OpenSSL's built-in defaults, not the hub's file\n")
    wrapper.chmod(0o755)
    bundle = out / "ca-certificates.crt"
    with bundle.open("wb") as handle:
        for cert in sorted((usr / "share" / "ca-certificates").rglob("*.crt")):
            handle.write(cert.read_bytes())
    (out / "copyright").mkdir()
    for doc in sorted((usr / "share" / "doc").glob("*/copyright")):
        shutil.copy2(doc, out / "copyright" / doc.parent.name, follow_symlinks=True)


def _unneeded_libraries(arch: Arch, out: Path) -> None:
    """Keep in ``so/`` only what the interpreter and the kept modules load (by NEEDED)."""
    libs = out / "so"
    wanted = {arch.loader}
    todo = [p for p in out.rglob("*") if p.parent != libs and is_elf(p)]
    while todo:
        for name in read_elf(todo.pop()).needed:
            if name not in wanted and (libs / name).is_file():
                wanted.add(name)
                todo.append(libs / name)
    for lib in libs.iterdir():
        if lib.name not in wanted:
            lib.unlink()


def check_closure(arch: Arch, out: Path) -> None:
    """Fail unless every ELF file is for ``arch`` and finds all its NEEDED libraries."""
    present = {p.name for p in (out / "so").iterdir()}
    problems = []
    for path in sorted(p for p in out.rglob("*") if is_elf(p)):
        info = read_elf(path)
        if info.machine != arch.machine:
            problems.append(f"{path.relative_to(out)}: ELF machine {info.machine}")
        problems.extend(
            f"{path.relative_to(out)} needs {name}, not in the bundle"
            for name in info.needed
            if name not in present
        )
    if problems:
        raise RuntimeBuildError("\n".join(problems))


def _compile(out: Path, interpreter: Path) -> None:
    """Byte code for everything, checked by nothing at run time (unchecked-hash).

    The runtime ships byte code only (``x.pyc`` where ``x.py`` was): half the size, and a
    traceback through the standard library still names file, function and line.
    """
    for folder in (out / "lib" / f"python{PY}", out / "lib" / "python3" / "dist-packages"):
        subprocess.run(  # noqa: S603 - our own bundled interpreter
            [
                str(interpreter),
                "-m",
                "compileall",
                "-q",
                "--invalidation-mode",
                "unchecked-hash",
                "-s",
                str(out),
                "-p",
                "/usr/local/addons/cloudconnector/runtime",
                "-b",
                "-x",
                "(site-packages|lib-dynload)",
                str(folder),
            ],
            check=True,
            capture_output=True,
            timeout=600,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"},
        )
        for source in list(folder.rglob("*.py")):
            if source.with_suffix(".pyc").is_file():
                source.unlink()
        for cache in list(folder.rglob("__pycache__")):  # written by no one but a stray run
            shutil.rmtree(cache)
