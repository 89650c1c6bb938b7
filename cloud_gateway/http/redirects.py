"""Where a browser may be sent after a form: same-site paths only."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

__all__ = ["safe_next"]

#: characters URL parsers and ``Location`` builders drop or treat as separators (WHATWG URL
#: strips TAB/CR/LF anywhere and C0 controls and spaces at the ends; backslash is a slash)
_SUSPICIOUS = re.compile(r"[\x00-\x20\x7f\\]")


def safe_next(target: str | None, default: str = "/portal") -> str:
    """Only same-site paths are followed after login (no open redirect).

    The target is judged as a browser would read it: it must be a plain absolute path with no
    control character, space or backslash (a browser drops or rewrites those, so
    ``/%09/evil.example`` decoded would become ``//evil.example``), no scheme, no host, and
    it must stay a path after percent-decoding too.
    """
    if not target or _SUSPICIOUS.search(target):
        return default
    decoded = unquote(target)
    if _SUSPICIOUS.search(decoded):
        return default
    for form in (target, decoded):
        parts = urlsplit(form)
        if not form.startswith("/") or form.startswith("//") or parts.scheme or parts.netloc:
            return default
    return target
