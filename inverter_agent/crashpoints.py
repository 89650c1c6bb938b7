"""Named points on the outbox's way where a test may kill the agent (fault injection).

::

    append  inside the append transaction, after the INSERTs, before COMMIT
    send    a TELEMETRY frame handed to the channel, not yet in the window
    ack     the gateway's ACK arrived, the outbox not yet told
    delete  inside the delete transaction, after the DELETEs, before COMMIT

Off unless a test installs a hook (:func:`install`): the product never does, and then each
point costs one ``is None`` test. The reliability suite runs the agent through a wrapper
(``tests/reliability/crashing_agent.py``) whose hook SIGKILLs the process at the n-th passage
of one point.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

__all__ = ["CrashPoint", "install", "reached"]


class CrashPoint(StrEnum):
    """Where on the outbox's way a hook is asked."""

    APPEND = "append"
    SEND = "send"
    ACK = "ack"
    DELETE = "delete"


_hook: Callable[[CrashPoint], None] | None = None


def install(hook: Callable[[CrashPoint], None] | None) -> None:
    """Call ``hook`` at every point from now on (``None``: off again). For tests only."""
    global _hook  # noqa: PLW0603 - one process-wide switch, set once by a test wrapper
    _hook = hook


def reached(point: CrashPoint) -> None:
    """The agent passes ``point`` (a no-op unless a test installed a hook)."""
    if _hook is not None:
        _hook(point)
