"""The CCU's ``hm_addons.cfg``: add and remove one add-on's Systemsteuerung button.

The file is a Tcl list of ``id {dict}`` pairs, as the WebUI reads it with ``array set``::

    hm_pdetect {CONFIG_URL /addons/hm_pdetect CONFIG_DESCRIPTION {de {...} en {...}} ID hm_pdetect}
    cloudconnector {CONFIG_URL /addons/cloudconnector/ ... CONFIG_NAME CloudConnector}

On a CCU the firmware's ``/bin/update_addon`` edits it; this module is the fallback the
add-on's install scripts use where that tool is missing (and in tests). Only our own pair is
touched: the other entries are kept byte for byte as they were read.

Command line (used by ``update_script`` and ``rc.d``)::

    python -m ccu_addon.hmaddons set FILE ID ENTRY_FILE
    python -m ccu_addon.hmaddons remove FILE ID
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

__all__ = ["TclListError", "main", "remove_entry", "set_entry", "split_tcl_list"]


class TclListError(ValueError):
    """The text is not a well-formed Tcl list (unbalanced braces or quotes)."""


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _braced_end(text: str, i: int) -> int:
    depth = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise TclListError("unbalanced braces in Tcl list")


def _quoted_end(text: str, i: int) -> int:
    i += 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    raise TclListError("unterminated quote in Tcl list")


def _word_end(text: str, i: int) -> int:
    while i < len(text) and not text[i].isspace():
        i += 2 if text[i] == "\\" else 1
    return i


def split_tcl_list(text: str) -> list[str]:
    """The elements of a Tcl list in their written form (braces and quotes kept)."""
    elements: list[str] = []
    i = _skip_space(text, 0)
    while i < len(text):
        if text[i] == "{":
            end = _braced_end(text, i)
        elif text[i] == '"':
            end = _quoted_end(text, i)
        else:
            end = _word_end(text, i)
        elements.append(text[i:end])
        i = _skip_space(text, end)
    return elements


def _unwrap(element: str) -> str:
    if len(element) >= 2 and element[0] + element[-1] in ("{}", '""'):
        return element[1:-1]
    return element


def _pairs(text: str) -> list[tuple[str, str]]:
    elements = split_tcl_list(text)
    if len(elements) % 2:
        raise TclListError("hm_addons.cfg must hold id/entry pairs")
    return [(elements[k], elements[k + 1]) for k in range(0, len(elements), 2)]


def _render(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{key} {value}\n" for key, value in pairs)


def set_entry(text: str, addon_id: str, entry: str) -> str:
    """``text`` with the entry of ``addon_id`` replaced by (or extended with) ``entry``."""
    body = " ".join(split_tcl_list(_unwrap(entry.strip())))
    pairs = [(k, v) for k, v in _pairs(text) if _unwrap(k) != addon_id]
    pairs.append((addon_id, "{" + body + "}"))
    return _render(pairs)


def remove_entry(text: str, addon_id: str) -> str:
    """``text`` without the entry of ``addon_id``."""
    return _render([(k, v) for k, v in _pairs(text) if _unwrap(k) != addon_id])


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """``set FILE ID ENTRY_FILE`` or ``remove FILE ID``; exit 1 with a message on errors."""
    args = sys.argv[1:] if argv is None else argv
    usage = "usage: python -m ccu_addon.hmaddons set FILE ID ENTRY_FILE | remove FILE ID"
    if (
        len(args) < 3
        or args[0] not in ("set", "remove")
        or len(args) != (4 if args[0] == "set" else 3)
    ):
        print(usage, file=sys.stderr)  # noqa: T201 - command-line front end
        return 2
    command, path, addon_id = args[0], Path(args[1]), args[2]
    try:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if command == "set":
            updated = set_entry(current, addon_id, Path(args[3]).read_text(encoding="utf-8"))
        else:
            updated = remove_entry(current, addon_id)
        if updated != current:
            _write_atomically(path, updated)
    except (OSError, TclListError) as exc:
        print(f"hm_addons.cfg: {exc}", file=sys.stderr)  # noqa: T201 - command-line front end
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
