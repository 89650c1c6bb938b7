"""Notifications: the persisted outbox, e-mail templates, the SMTP worker."""

from cloud_gateway.notify.mail import Attachment, Mail, MailKind, render_mail
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.worker import MailWorker

__all__ = ["Attachment", "Mail", "MailKind", "MailWorker", "Outbox", "render_mail"]
