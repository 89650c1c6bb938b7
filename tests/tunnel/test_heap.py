"""Bulk buffers from a heap that keeps its pages (tunnel/heap.py): measured in page faults,
in fresh processes (the thresholds are process-wide)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tunnel import heap

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc")

_CHURN = """
import random, resource, sys
if sys.argv[1] == "install":
    from tunnel import heap
    assert heap.install()
rng = random.Random(7)
def churn():
    # Buffers of a tunnel end's sizes (reads, frames, TLS output), a few alive at a time.
    held = []
    for _ in range(400):
        held.append(b"x" * rng.choice((65_536, 131_103, 262_144, 393_216, 524_297)))
        if len(held) > 2:
            held.pop(rng.randrange(len(held)))
churn()  # warm up: the first buffers fault in any case
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str, env: dict[str, str] | None = None) -> int:
    result = subprocess.run(
        [sys.executable, "-c", _CHURN, mode],
        capture_output=True,
        text=True,
        check=True,
        env=None if env is None else {**os.environ, **env},
    )
    return int(result.stdout)


def test_buffers_reuse_the_heap_instead_of_faulting_in_fresh_pages() -> None:
    # 400 buffers of 64-512 KiB: with glibc's defaults thousands of their pages are
    # faulted in afresh (a mapping per buffer, or a heap top given back and taken again;
    # in the bench's gateway 160-380 faults per MiB moved); with the thresholds fixed the
    # heap keeps its pages.
    default, installed = _faults("default"), _faults("install")
    assert default > 1_000
    assert installed < default / 10


def test_install_is_idempotent() -> None:
    assert heap.install() is True
    assert heap.install() is True


def test_glibcs_environment_sets_the_same_thresholds() -> None:
    # The hub's runtime has no ctypes: its start script and unit set these instead.
    assert _faults("default", heap.ENVIRONMENT) < _faults("default") / 10


def test_the_hubs_start_script_and_unit_set_the_environment() -> None:
    root = Path(__file__).resolve().parents[2] / "packaging" / "ccu"
    for path in (root / "rc.d" / "cloudconnector", root / "etc" / "cloudconnector.service.in"):
        text = path.read_text(encoding="utf-8")
        for name, value in heap.ENVIRONMENT.items():
            assert f"{name}={value}" in text, path


def test_without_ctypes_install_does_nothing() -> None:
    script = (
        "import sys; sys.modules['ctypes'] = None\nfrom tunnel import heap\nprint(heap.install())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
