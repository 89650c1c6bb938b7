"""E-mail texts: one Jinja2 template per kind and language (German first, English).

Templates live in ``cloud_gateway/templates/mail/<kind>.<lang>.txt``; the first line is the
subject, the rest the plain-text body. Rendering happens when the mail is put into the outbox,
so what was sent is exactly what the outbox row holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

import jinja2

from cloud_gateway.i18n import Language

__all__ = ["Attachment", "Mail", "MailKind", "RenderedMail", "render_mail"]


class MailKind(StrEnum):
    """Every e-mail the gateway sends."""

    VALIDATE_EMAIL = "validate_email"
    ALREADY_REGISTERED = "already_registered"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a template name
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a template name
    PACKAGE_REMINDER_BEFORE = "package_reminder_before"
    PACKAGE_REMINDER_DAY = "package_reminder_day"
    SUBSCRIPTION_ORDER = "subscription_order"
    SERVICE_ORDER = "service_order"
    LICENCE_ORDER = "licence_order"
    TICKET_ANSWER = "ticket_answer"
    REPAIR_QUOTE = "repair_quote"
    ORDER_PAID = "order_paid"
    ACCOUNT_CLOSED = "account_closed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file sent with a mail (an invoice PDF, a contract document)."""

    filename: str
    """Name the recipient sees, e.g. ``Rechnung-R2026-000001.pdf``."""
    content_type: str
    """MIME type, ``maintype/subtype`` (``application/pdf``)."""
    data: bytes = b""
    """The file's bytes, stored with the outbox row (empty when rendered from ``source``)."""
    source: str = ""
    """Rendered when the mail is sent instead of stored: ``scheme:reference`` (for example
    ``billing-document:42``, a finalised document's PDF) resolved by the source the mail
    worker has for ``scheme``. The referenced data is fixed, so the bytes sent are the same
    whenever the rendering happens; the transaction that queues the mail stays short."""

    def __post_init__(self) -> None:
        maintype, _, subtype = self.content_type.partition("/")
        if not maintype or not subtype or not self.filename:
            raise ValueError("an attachment needs a file name and a maintype/subtype")
        if self.source and (self.data or ":" not in self.source):
            raise ValueError("an attachment has bytes or a scheme:reference source, not both")


@dataclass(frozen=True, slots=True, kw_only=True)
class Mail:
    """An e-mail to be sent."""

    to: str
    """Recipient address."""
    kind: MailKind
    """Which template."""
    language: Language = Language.DE
    """Language of the text."""
    params: Mapping[str, object] = field(default_factory=dict)
    """Values the template uses."""
    attachments: tuple[Attachment, ...] = ()
    """Files sent with the mail (multipart), stored in the same transaction as the mail."""


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """Subject and body of a mail."""

    subject: str
    body: str


@cache
def _environment() -> jinja2.Environment:
    # plain-text mail: HTML escaping would corrupt links and names
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cloud_gateway", "templates/mail"),
        autoescape=False,  # noqa: S701 - text/plain templates, never HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_mail(mail: Mail) -> RenderedMail:
    """Render ``mail`` in its language."""
    template = _environment().get_template(f"{mail.kind.value}.{mail.language.value}.txt")
    text = template.render(**mail.params)
    subject, _, body = text.partition("\n")
    return RenderedMail(subject=subject.strip(), body=body.lstrip("\n"))
