"""Read what the dynamic loader needs from an ELF file: its machine and its NEEDED libraries.

Enough ELF for the runtime builder's closure check (little-endian, 32 and 64 bit): the file
header's class and machine, the program headers' PT_LOAD and PT_DYNAMIC, and in the dynamic
section the DT_NEEDED names in the DT_STRTAB string table. No binutils needed on the builder.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ElfInfo", "is_elf", "read_elf"]

_MAGIC = b"\x7fELF"
_PT_LOAD, _PT_DYNAMIC = 1, 2
_DT_NULL, _DT_NEEDED, _DT_STRTAB = 0, 1, 5


@dataclass(frozen=True, slots=True, kw_only=True)
class ElfInfo:
    """An ELF object's machine (``e_machine``: 40 ARM, 62 x86-64, 183 AArch64) and needs."""

    bits: int
    machine: int
    needed: tuple[str, ...]


def is_elf(path: Path) -> bool:
    """Whether ``path`` is a regular file starting with the ELF magic."""
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(4) == _MAGIC


def read_elf(path: Path) -> ElfInfo:
    """The machine and NEEDED entries of the ELF file at ``path`` (ValueError if not ELF)."""
    data = path.read_bytes()
    if data[:4] != _MAGIC or data[5] != 1:
        raise ValueError(f"{path}: not a little-endian ELF file")
    bits = 64 if data[4] == 2 else 32
    if bits == 64:
        machine, phoff = (
            struct.unpack_from("<H", data, 18)[0],
            struct.unpack_from("<Q", data, 32)[0],
        )
        phentsize, phnum = struct.unpack_from("<HH", data, 54)
        phdr, dyn = "<IIQQQQQQ", "<qQ"
    else:
        machine, phoff = (
            struct.unpack_from("<H", data, 18)[0],
            struct.unpack_from("<I", data, 28)[0],
        )
        phentsize, phnum = struct.unpack_from("<HH", data, 42)
        phdr, dyn = "<IIIIIIII", "<iI"
    loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
    dynamic: tuple[int, int] | None = None
    for index in range(phnum):
        fields = struct.unpack_from(phdr, data, phoff + index * phentsize)
        if bits == 64:
            p_type, p_offset, p_vaddr, p_filesz = fields[0], fields[2], fields[3], fields[5]
        else:
            p_type, p_offset, p_vaddr, p_filesz = fields[0], fields[1], fields[2], fields[4]
        if p_type == _PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == _PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:  # static executable
        return ElfInfo(bits=bits, machine=machine, needed=())
    entries: list[tuple[int, int]] = []
    step = struct.calcsize(dyn)
    for offset in range(dynamic[0], dynamic[0] + dynamic[1], step):
        tag, value = struct.unpack_from(dyn, data, offset)
        if tag == _DT_NULL:
            break
        entries.append((tag, value))
    strtab = next(value for tag, value in entries if tag == _DT_STRTAB)
    base = next(
        off + strtab - vaddr for vaddr, off, size in loads if vaddr <= strtab < vaddr + size
    )
    needed = tuple(
        data[base + value : data.index(b"\0", base + value)].decode()
        for tag, value in entries
        if tag == _DT_NEEDED
    )
    return ElfInfo(bits=bits, machine=machine, needed=needed)
