"""What ``/proc`` says about another process, and a watch on the files it writes.

Linux only (the add-on's hub runs Linux; so do the benchmarks). Sizes in bytes or KiB as
named, CPU time in seconds.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FolderWrites",
    "MemoryRollup",
    "cpu_seconds",
    "cpu_seconds_fine",
    "io_write_bytes",
    "memory_rollup",
    "rss_kib",
]

_TICKS = os.sysconf("SC_CLK_TCK")
_SCHEDSTAT = Path("/proc/self/schedstat").exists()


def rss_kib(pid: int) -> int:
    """``VmRSS`` of ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryRollup:
    """``/proc/<pid>/smaps_rollup`` in KiB: who pays for the resident pages."""

    rss: int
    """Resident pages, shared ones counted whole (``VmRSS`` up to accounting lag)."""
    pss: int
    """Proportional set size: each shared page divided by the processes mapping it."""
    uss: int
    """Unique set size: ``Private_Clean + Private_Dirty``, what ending the process frees."""
    anonymous: int
    """Anonymous pages (Python heap, malloc arenas, stacks)."""

    @property
    def shared(self) -> int:
        """Resident pages other processes map too (libraries, mostly)."""
        return self.rss - self.uss


def memory_rollup(pid: int) -> MemoryRollup:
    """Rss, Pss, USS and anonymous memory of ``pid`` (Linux >= 4.14)."""
    fields: dict[str, int] = {}
    text = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii")
    for line in text.splitlines()[1:]:
        key, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[-1] == "kB":
            fields[key] = int(parts[0])
    return MemoryRollup(
        rss=fields["Rss"],
        pss=fields["Pss"],
        uss=fields["Private_Clean"] + fields["Private_Dirty"],
        anonymous=fields["Anonymous"],
    )


def mapped_files(pid: int) -> set[str]:
    """Paths of the files ``pid`` maps (its executable, shared libraries, extension modules)."""
    paths = set()
    for line in Path(f"/proc/{pid}/maps").read_text(encoding="utf-8").splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].startswith("/"):
            paths.add(fields[5])
    return paths


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` (``utime + stime`` of ``/proc/<pid>/stat``)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    # The command name in parentheses may hold spaces; the fields follow the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICKS


def cpu_seconds_fine(pid: int) -> float:
    """CPU time of ``pid``'s live threads to the nanosecond (``/proc/<pid>/task/*/schedstat``).

    ``utime + stime`` count in clock ticks (10 ms): a few dozen short round trips may cost
    less than one. The scheduler's own run time has no such grain, but forgets threads that
    have ended, so use it across a window in which the process's threads stay the same.
    Falls back to :func:`cpu_seconds` where the kernel keeps no schedstat.
    """
    if not _SCHEDSTAT:
        return cpu_seconds(pid)
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread ending while we look
            total += int((task / "schedstat").read_text(encoding="ascii").split()[0])
    return total / 1e9


def io_write_bytes(pid: int) -> int | None:
    """Bytes ``pid`` caused to be sent to storage (``write_bytes``); None if unreadable."""
    try:
        text = Path(f"/proc/{pid}/io").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == "write_bytes":
            return int(value)
    return None


class FolderWrites:
    """Counts bytes written below a folder by watching sizes and modification times.

    Every time a file is new or its (size, mtime) changed since the last :meth:`sample`,
    its whole size counts as written: state files are rewritten whole (write to a
    temporary file, then rename), and appends count their full file, erring high.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written = 0
        """Bytes counted since construction (or :meth:`reset`)."""
        self.changes = 0
        """New or changed files seen."""
        self._seen = self._scan()

    def _scan(self) -> dict[Path, tuple[int, int]]:
        seen: dict[Path, tuple[int, int]] = {}
        for path in self.folder.rglob("*"):
            try:
                info = path.stat()
            except FileNotFoundError:  # renamed away between listing and stat
                continue
            if path.is_file():
                seen[path] = (info.st_size, info.st_mtime_ns)
        return seen

    def reset(self) -> None:
        """Start counting afresh from the folder as it is now."""
        self._seen = self._scan()
        self.written = 0
        self.changes = 0

    def sample(self) -> None:
        """Look at the folder once and count what changed."""
        now = self._scan()
        for path, (size, mtime) in now.items():
            if self._seen.get(path) != (size, mtime):
                self.written += size
                self.changes += 1
        self._seen = now
