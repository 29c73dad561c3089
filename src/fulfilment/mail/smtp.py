"""Sending one mail: through the SMTP server of FULFILMENT_SMTP_URL (aiosmtplib; STARTTLS
or implicit TLS), or, without one, into the log for development."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from ..settings import Settings

log = logging.getLogger("fulfilment.mail")

# A server that does not answer within this is given up on for this attempt.
TIMEOUT_SECONDS = 30
DEVELOPMENT_SENDER = "fulfilment@localhost"


class SendFailed(Exception):
    """The mail was not accepted; `str()` says why, without the mail's content."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One mail as the outbox keeps it."""

    recipient: str
    sender_name: str
    subject: str
    body_text: str
    body_html: str


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """FULFILMENT_SMTP_URL read."""

    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        options = {name: values[-1].lower() for name, values in parse_qs(parts.query).items()}
        implicit_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if implicit_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            implicit_tls=implicit_tls,
            starttls=not implicit_tls and options.get("starttls") in {"true", "1", "yes"},
        )


def compose(mail: Outgoing, sender: str) -> EmailMessage:
    """The message: plain text, and the same as simple HTML (no remote images)."""
    message = EmailMessage()
    local, _, domain = sender.partition("@")
    message["From"] = Address(mail.sender_name, local, domain)
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=domain or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    return message


class Sender:
    """Sends mails for the outbox's worker."""

    def __init__(self, settings: Settings) -> None:
        self.server = SmtpServer.from_url(settings.smtp_url) if settings.smtp_url else None
        self.sender = settings.mail_from or DEVELOPMENT_SENDER
        self.tls: ssl.SSLContext | None = None
        if self.server is not None and (self.server.implicit_tls or self.server.starttls):
            self.tls = ssl.create_default_context(cafile=settings.smtp_ca_file)

    @property
    def to_log(self) -> bool:
        return self.server is None

    async def send(self, mail: Outgoing) -> None:
        try:
            message = compose(mail, self.sender)
        except (ValueError, TypeError) as error:  # a header no mail can carry
            raise SendFailed(f"the mail cannot be composed: {type(error).__name__}") from None
        if self.server is None:
            # Development: the whole mail, its link included, is what the developer needs.
            log.warning(
                "FULFILMENT_SMTP_URL is not set; the mail to %s is written here instead:\n%s",
                mail.recipient,
                message.get_body(("plain",)).get_content(),  # type: ignore[union-attr]
            )
            return
        server = self.server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.implicit_tls,
                start_tls=server.starttls,
                tls_context=self.tls,
                timeout=TIMEOUT_SECONDS,
            )
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as error:
            raise SendFailed(f"{type(error).__name__}: {error}") from None
