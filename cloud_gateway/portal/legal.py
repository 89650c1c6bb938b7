"""Impressum, Datenschutz and AGB: operator-edited texts, readable before registration.

Each document is a UTF-8 text file ``<doc>.<lang>.txt``: a line starting with ``# `` is a
heading, blank lines separate paragraphs. The operator's folder (``[portal] legal_dir``) wins;
a document missing there (or no folder) falls back to the shipped demo texts in
``cloud_gateway/portal/legal/``, and a missing English text to the German one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = ["Block", "LegalDocument", "load_legal", "parse_legal"]

_SHIPPED = Path(__file__).with_name("legal")


class LegalDocument(StrEnum):
    """The legal pages (their path segment)."""

    IMPRESSUM = "impressum"
    DATENSCHUTZ = "datenschutz"
    AGB = "agb"


@dataclass(frozen=True, slots=True)
class Block:
    """A heading or a paragraph of a legal text."""

    heading: bool
    text: str


def parse_legal(text: str) -> list[Block]:
    """The blocks of a legal text (pure)."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block(False, " ".join(paragraph)))
            paragraph.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("# "):
            flush()
            blocks.append(Block(True, line[2:].strip()))
        elif not line:
            flush()
        else:
            paragraph.append(line)
    flush()
    return blocks


def load_legal(document: LegalDocument, lang: str, folder: Path | None) -> list[Block]:
    """The document in ``lang`` (blocking file read: call it in a thread)."""
    candidates = [
        base / f"{document.value}.{code}.txt"
        for base in ((folder,) if folder is not None else ()) + (_SHIPPED,)
        for code in dict.fromkeys((lang, "de"))
    ]
    for path in candidates:
        if path.is_file():
            return parse_legal(path.read_text(encoding="utf-8"))
    return []
