"""Login sessions of the simulated CCU, shared by the WebUI and the JSON-RPC API.

As on a real CCU, one session serves both: ``Session.login`` returns a ten-character id
(``K09EriiE4t``); the WebUI carries the same id wrapped in at signs in its URLs
(``/pages/index.htm?sid=@K09EriiE4t@``) and JSON-RPC calls carry it bare in
``_session_id_``. A session ends after ``session_timeout`` seconds without use or renewal,
on logout, and when the CCU restarts.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from enum import IntEnum

from simulator.ccu.config import Clock

__all__ = ["Session", "SessionStore", "UserLevel", "bare_sid"]

_ALPHABET = string.ascii_letters + string.digits


class UserLevel(IntEnum):
    """Permission levels of the CCU's user accounts (ReGa ``UL_*``)."""

    NONE = 0
    GUEST = 1
    USER = 2
    ADMIN = 8


@dataclass(slots=True)
class Session:
    """One logged-in user."""

    sid: str
    username: str
    level: UserLevel
    expires: float


def bare_sid(sid: str) -> str:
    """``@K09EriiE4t@`` → ``K09EriiE4t``; a bare id stays as it is."""
    return sid.strip().removeprefix("@").removesuffix("@")


class SessionStore:
    """Sessions by id; expiry measured on the injected clock."""

    def __init__(self, clock: Clock, *, username: str, password: str, timeout: float) -> None:
        self._clock = clock
        self._username = username
        self._password = password
        self._timeout = timeout
        self._sessions: dict[str, Session] = {}

    def login(self, username: str, password: str) -> Session | None:
        """A new session for valid credentials, else ``None``."""
        valid = secrets.compare_digest(username.encode(), self._username.encode())
        valid &= secrets.compare_digest(password.encode(), self._password.encode())
        if not valid:
            return None
        sid = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        session = Session(sid, username, UserLevel.ADMIN, self._clock.monotonic() + self._timeout)
        self._sessions[sid] = session
        return session

    def get(self, sid: str) -> Session | None:
        """The live session for ``sid`` (bare or ``@…@``), or ``None``; use renews it."""
        key = bare_sid(sid)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self._clock.monotonic()
        if session.expires <= now:
            del self._sessions[key]
            return None
        session.expires = now + self._timeout
        return session

    def logout(self, sid: str) -> bool:
        """End a session; ``True`` when there was one."""
        return self._sessions.pop(bare_sid(sid), None) is not None

    def clear(self) -> None:
        """Forget every session (a restart)."""
        self._sessions.clear()

    def __len__(self) -> int:
        return len(self._sessions)
