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

from ..fields import ENCODED_WORD_START, check_email, is_unshowable
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


def header_text(text: str) -> str:
    """`text` as plain text for a header, which the email package's policy then encodes:
    what the service checks before it stores a name passes unchanged. A name stored before
    that check has each control or invisible character (a line break) turned into a space
    and each `=?` broken up, since a mail program would decode an encoded word it starts
    (`=?utf-8?q?=0ABcc:...?=`) into a line of its own."""
    shown = "".join(" " if is_unshowable(character) else character for character in text)
    return shown.replace(ENCODED_WORD_START, "= ?").strip()


def mailbox(address: str) -> Address:
    """`address` as one mailbox; ValueError for anything else (a list, a group, a name)."""
    local, _, domain = check_email(address).partition("@")
    # From its parts: Address(addr_spec=...) refuses a local part beyond ASCII (RFC 6531),
    # which the rule allows and SMTPUTF8 carries.
    return Address(username=local, domain=domain)


def compose(mail: Outgoing, sender: str) -> EmailMessage:
    """The message: plain text, and the same as simple HTML (no remote images)."""
    message = EmailMessage()
    local, _, domain = sender.partition("@")  # one mailbox (settings.MailAddress)
    message["From"] = Address(header_text(mail.sender_name), local, domain)
    message["To"] = mailbox(mail.recipient)
    message["Subject"] = header_text(mail.subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=domain)
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
            # The envelope names the one recipient: never read from the headers.
            await aiosmtplib.send(
                message,
                sender=self.sender,
                recipients=[mail.recipient],
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
