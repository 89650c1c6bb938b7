"""Where a browser may be sent after a form: same-site paths only."""

from __future__ import annotations

__all__ = ["safe_next"]


def safe_next(target: str | None, default: str = "/portal") -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target
