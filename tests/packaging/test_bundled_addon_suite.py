"""The add-on's own test suite under the x86-64 bundled interpreter (what the hubs run).

The suite runs on a copy of the built runtime, with the add-on's sources from this checkout
and the test tools (pytest, aiohttp, trustme, the gateway's libraries) for CPython 3.13 from
PyPI in ``build/py313-test-site`` (the gateway's dependencies read from pyproject.toml). Only
the test harness needs more than the hub gets: the gateway it starts and pytest use the whole
standard library (sqlite3, wsgiref, pdb, every codec), taken from the same Debian packages into
the copy (never into the archive). cryptography, cffi, h11, wsproto are the runtime's (Debian's)
own.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bench._hubroot import AptState, build_runtimes, extract

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
SITE = BUILD / "py313-test-site"
#: the test harness's own packages from the project's test extra (the rest is for other suites)
HARNESS = ("pytest", "pytest-asyncio", "pytest-aiohttp", "pytest-timeout", "trustme", "hypothesis",
           "aiosmtpd")  # fmt: skip
# The runtime's own (Debian's) copies are the ones under test.
NOT_FROM_PYPI = ("cryptography", "cffi", "_cffi_backend", "h11", "wsproto", "websockets")


def _requirements() -> list[str]:
    """The gateway's dependencies (the add-on tests start a real gateway) and the harness's,
    read from pyproject.toml so the list is defined once."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def name(requirement: str) -> str:
        return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].strip().lower()

    wanted = [r for r in project["dependencies"] if name(r) not in NOT_FROM_PYPI]
    wanted += [r for r in project["optional-dependencies"]["test"] if name(r) in HARNESS]
    return [r.split("#", 1)[0].strip() for r in wanted]


REQUIREMENTS = _requirements()


def _test_site() -> Path:
    stamp = SITE / ".requirements"
    if stamp.is_file() and stamp.read_text() == "\n".join(REQUIREMENTS):
        return SITE
    shutil.rmtree(SITE, ignore_errors=True)
    platforms = ["manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_28_x86_64"]
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "-q", "--target", str(SITE),
            "--python-version", "3.13", "--implementation", "cp", "--abi", "cp313",
            *(f"--platform={p}" for p in platforms), "--only-binary=:all:", *REQUIREMENTS,
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )  # fmt: skip
    for entry in list(SITE.iterdir()):
        if entry.name.startswith(NOT_FROM_PYPI):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    stamp.write_text("\n".join(REQUIREMENTS))
    return SITE


def _harness_runtime(tmp: Path) -> Path:
    """A copy of the x86-64 runtime with what the test harness needs beyond the hub's."""
    [runtime] = build_runtimes(["x86-64"], BUILD)
    copy = tmp / "runtime"
    shutil.copytree(runtime.path, copy, symlinks=True)
    apt = AptState("amd64", BUILD / "apt" / "amd64")
    packages = [
        apt.single(name)
        for name in ("libsqlite3-0", "libpython3.13-minimal", "libpython3.13-stdlib")
    ]
    staging = tmp / "staging"
    for deb in apt.download(packages, BUILD / "debs" / "amd64"):
        extract(deb, staging)
    stdlib = staging / "usr/lib/python3.13"
    # the gateway the harness starts needs the whole standard library (codecs, pydoc, ...);
    # the trimmed one the hub gets is exercised by the daemon in tests/packaging/test_hub_runtime
    shutil.copytree(
        stdlib,
        copy / "lib/python3.13",
        dirs_exist_ok=True,
        symlinks=True,
        # Debian's sitecustomize.py is a link into the host's /etc: not ours to run
        ignore=shutil.ignore_patterns(
            "test", "idlelib", "tkinter", "__pycache__", "sitecustomize.py"
        ),
    )
    for module in (stdlib / "lib-dynload").glob("_sqlite3.*"):
        shutil.copy2(module, copy / "lib/python3.13/lib-dynload" / module.name)
    for lib in (staging / "usr/lib/x86_64-linux-gnu").glob("libsqlite3.so.0*"):
        shutil.copy2(lib, copy / "so" / "libsqlite3.so.0", follow_symlinks=True)
    return copy


# a fresh clone installs the test site first, then runs the whole add-on suite in a subprocess
# (bounded by its own 900 s below): on a loaded CI machine that took more than the default 120 s
@pytest.mark.timeout(1200)
def test_the_addon_suite_passes_under_the_bundled_interpreter(tmp_path: Path) -> None:
    if sys.platform != "linux" or shutil.which("dpkg-deb") is None:
        pytest.skip("needs Linux with dpkg-deb (the runtime is built from Debian packages)")
    site = _test_site()
    runtime = _harness_runtime(tmp_path)
    done = subprocess.run(
        [
            str(runtime / "bin/python3"),
            "-m",
            "pytest",
            "tests/ccu_addon",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:junitxml",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{site}:{ROOT}", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
    assert (
        "3.13"
        in subprocess.run(
            [str(runtime / "bin/python3"), "-c", "import sys; print(sys.version)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
