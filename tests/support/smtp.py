"""An in-process SMTP server (aiosmtpd) on a free loopback port that records every message."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP

__all__ = ["RecordingSmtp"]


@dataclass
class _Recorder:
    messages: list[EmailMessage] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook name
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        async with self.arrived:
            self.messages.append(msg)
            self.arrived.notify_all()
        return "250 OK"


class RecordingSmtp:
    """Start with :meth:`start`; read :attr:`messages`; wait with :meth:`wait_for`."""

    def __init__(self) -> None:
        self._recorder = _Recorder()
        self._server: asyncio.Server | None = None
        self.host = "127.0.0.1"
        self.port = 0

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received so far, in order."""
        return self._recorder.messages

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self._recorder, hostname="smtp.test"), self.host, 0
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until at least ``count`` messages have arrived."""
        async with asyncio.timeout(timeout), self._recorder.arrived:
            await self._recorder.arrived.wait_for(lambda: len(self.messages) >= count)
        return self.messages
