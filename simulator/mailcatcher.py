"""A local mail catcher for the demo: a real SMTP server (aiosmtpd) that files every mail.

The demo gateway sends through it like through any SMTP relay; each message is added to a
Maildir, which the portal's "Postfach (Demo)" page reads (``[portal] demo_mailbox_dir``).
Nothing is delivered anywhere else. Binds loopback on a free port unless told otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["MailCatcher"]

_LOGGER = logging.getLogger(__name__)


class _Filer:
    """aiosmtpd handler: every DATA goes into the Maildir (in a thread: file I/O)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self.filed = 0
        self.arrived = asyncio.Condition()

    def _file(self, content: bytes) -> str:
        return str(mailbox.Maildir(self._folder, create=True).add(content))

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd hook name
        content = envelope.original_content or envelope.content
        data = content if isinstance(content, bytes) else str(content).encode()
        key = await asyncio.to_thread(self._file, data)
        async with self.arrived:
            self.filed += 1
            self.arrived.notify_all()
        _LOGGER.info("demo mailbox: mail %s for %s", key, ", ".join(envelope.rcpt_tos))
        return "250 OK"


class MailCatcher:
    """Start with :meth:`start`, stop with :meth:`stop`; :attr:`port` once started."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.folder = folder
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._filer = _Filer(folder)

    @property
    def filed(self) -> int:
        """How many mails this catcher filed since it started."""
        return self._filer.filed

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        """Wait until at least ``count`` mails were filed (TimeoutError after ``timeout``)."""
        arrived = self._filer.arrived
        async with asyncio.timeout(timeout), arrived:
            await arrived.wait_for(lambda: self._filer.filed >= count)

    async def start(self) -> None:
        """Create the Maildir (and its parent folders) and listen."""
        await asyncio.to_thread(self.folder.parent.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(mailbox.Maildir, self.folder, None, True)
        handler: Any = self._filer
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(handler, hostname="mailcatcher.localhost"), self.host, self.port
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        _LOGGER.info(
            "demo mail catcher on %s:%d, filing into %s", self.host, self.port, self.folder
        )

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
