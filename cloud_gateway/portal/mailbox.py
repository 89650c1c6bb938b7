"""The demo's "Postfach (Demo)": every mail the demo's mail catcher received, read from its Maildir.

The mail catcher (``simulator.mailcatcher``) is a real SMTP server the demo gateway sends
through; it files each message into a Maildir. This module only reads that folder (blocking
file reads: call it in a thread). Keys are the Maildir's own message keys.
"""

from __future__ import annotations

import mailbox
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

__all__ = ["CaughtAttachment", "CaughtMail", "list_mails", "read_attachment", "read_mail"]

_KEY = re.compile(r"^[A-Za-z0-9._,:=-]{1,200}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class CaughtAttachment:
    """An attachment of a caught mail."""

    index: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CaughtMail:
    """A mail as the demo mailbox shows it."""

    key: str
    subject: str
    sender: str
    to: str
    date: datetime | None
    body: str
    attachments: tuple[CaughtAttachment, ...]


def _parse(data: bytes) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(data)
    if not isinstance(parsed, EmailMessage):  # pragma: no cover - policy.default makes these
        raise TypeError("not an EmailMessage")
    return parsed


def _attachments(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.iter_attachments() if isinstance(part, EmailMessage)]


def _caught(key: str, message: EmailMessage) -> CaughtMail:
    body_part = message.get_body(preferencelist=("plain", "html"))
    body = body_part.get_content() if isinstance(body_part, EmailMessage) else ""
    try:
        sent = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        sent = None
    files = tuple(
        CaughtAttachment(
            index=i,
            filename=part.get_filename() or f"anhang-{i}",
            content_type=part.get_content_type(),
            size=len(part.get_payload(decode=True) or b""),
        )
        for i, part in enumerate(_attachments(message))
    )
    return CaughtMail(
        key=key,
        subject=str(message["Subject"] or ""),
        sender=str(message["From"] or ""),
        to=str(message["To"] or ""),
        date=sent,
        body=str(body),
        attachments=files,
    )


def _open(folder: Path) -> mailbox.Maildir:
    return mailbox.Maildir(folder, factory=None, create=True)


def list_mails(folder: Path) -> list[CaughtMail]:
    """Every caught mail, newest first."""
    box = _open(folder)
    found = [_caught(key, _parse(box.get_bytes(key))) for key in box.iterkeys()]
    return sorted(found, key=lambda m: (m.date.timestamp() if m.date else 0.0, m.key), reverse=True)


def read_mail(folder: Path, key: str) -> CaughtMail | None:
    """One caught mail (``None``: no such key)."""
    if not _KEY.match(key):
        return None
    box = _open(folder)
    try:
        return _caught(key, _parse(box.get_bytes(key)))
    except KeyError:
        return None


def read_attachment(folder: Path, key: str, index: int) -> tuple[CaughtAttachment, bytes] | None:
    """One attachment's description and bytes (``None``: no such mail or attachment)."""
    if not _KEY.match(key):
        return None
    box = _open(folder)
    try:
        message = _parse(box.get_bytes(key))
    except KeyError:
        return None
    parts = _attachments(message)
    if not 0 <= index < len(parts):
        return None
    part = parts[index]
    data = part.get_payload(decode=True) or b""
    if not isinstance(data, bytes):  # pragma: no cover - decode=True gives bytes
        return None
    described = CaughtAttachment(
        index=index,
        filename=part.get_filename() or f"anhang-{index}",
        content_type=part.get_content_type(),
        size=len(data),
    )
    return described, data
