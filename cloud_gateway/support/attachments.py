"""Attachment checks (pure): size limit and the type sniffed from the content, never the name."""

from __future__ import annotations

from dataclasses import dataclass

from cloud_gateway.support.errors import AttachmentError

__all__ = ["MAX_ATTACHMENTS", "MAX_BYTES", "Upload", "checked", "sniff"]

#: the largest attachment accepted (bytes)
MAX_BYTES = 2 * 1024 * 1024
#: attachments per message
MAX_ATTACHMENTS = 3

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Upload:
    """A file as the customer sent it, its type decided by :func:`checked`."""

    filename: str
    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The MIME type the bytes show (PDF, PNG, JPEG, UTF-8 text), or ``None``."""
    for magic, mime in _SIGNATURES:
        if data.startswith(magic):
            return mime
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "text/plain"
    return None


def checked(filename: str, data: bytes) -> Upload:
    """``data`` as an upload of its sniffed type; refused when too large or of another type."""
    if len(data) > MAX_BYTES:
        raise AttachmentError(f"{filename}: {len(data)} bytes", reason="too_large")
    mime = sniff(data) if data else None
    if mime is None:
        raise AttachmentError(f"{filename}: type not accepted", reason="bad_type")
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    # the name goes into a Content-Disposition header: no quotes, no control characters
    name = "".join(c for c in base if c.isprintable() and c != '"').strip()[:120]
    name = name or "attachment"
    return Upload(filename=name, content_type=mime, data=data)
