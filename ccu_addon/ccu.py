"""Talking to the local CCU over JSON-RPC: is a WebUI session id (``sid``) valid?

The dashboard runs inside the CCU WebUI, which opens add-on pages with its session id in
the URL (``?sid=@K09EriiE4t@``). As add-ons on a real CCU do, the add-on asks the CCU
whether that session lives: JSON-RPC ``Session.renew`` with the bare id as
``_session_id_`` answers ``true`` for a logged-in user (and extends the session), ``false``
otherwise. Nothing is cached: a logout takes effect at once.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, Protocol

from ccu_addon.errors import CcuError, HttpClientError
from tunnel.httpclient import fetch

__all__ = ["CcuJsonRpc", "SessionChecker", "bare_sid"]

_SID: Final = re.compile(r"^@?([A-Za-z0-9]{6,32})@?$")
_TIMEOUT: Final = 5.0


def bare_sid(sid: str) -> str | None:
    """``@K09EriiE4t@`` → ``K09EriiE4t``; None for anything that is not a session id."""
    match = _SID.match(sid.strip())
    return match.group(1) if match else None


class SessionChecker(Protocol):
    """What the dashboard needs from the CCU."""

    async def session_valid(self, sid: str) -> bool:
        """Whether ``sid`` belongs to a logged-in WebUI user; CcuError if the CCU is down."""
        ...


class CcuJsonRpc:
    """A small client of ``/api/homematic.cgi`` on loopback."""

    def __init__(self, url: str, *, timeout: float = _TIMEOUT) -> None:
        self._url = url
        self._timeout = timeout
        self._next_id = 0

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """One call; the CCU's error object becomes :class:`CcuError`."""
        self._next_id += 1
        payload = {"method": method, "params": params, "id": self._next_id}
        try:
            resp = await fetch(
                "POST",
                self._url,
                body=json.dumps(payload).encode(),
                content_type="application/json",
                timeout=self._timeout,
            )
            resp.raise_for_status()
            answer = json.loads(resp.body)
        except (HttpClientError, ValueError) as exc:
            raise CcuError(f"CCU JSON-RPC {method} failed: {exc!r}") from exc
        if not isinstance(answer, dict):
            raise CcuError(f"CCU JSON-RPC {method}: unexpected answer")
        if answer.get("error"):
            raise CcuError(f"CCU JSON-RPC {method}: {answer['error']}")
        return answer.get("result")

    async def session_valid(self, sid: str) -> bool:
        """``Session.renew`` with the bare id; False for malformed ids without asking."""
        bare = bare_sid(sid)
        if bare is None:
            return False
        return await self.call("Session.renew", {"_session_id_": bare}) is True
