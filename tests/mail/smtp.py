"""A real SMTP server for tests (aiosmtpd, on a thread of its own): plain, STARTTLS or
implicit TLS with a self-signed certificate, keeping every mail it accepts."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers import Certificate, free_port

LINK = re.compile(r"https?://\S+")


class Inbox:
    """What the server accepted: envelope recipients and parsed messages."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.logins: list[str] = []
        self._lock = threading.Condition()
        # Seconds between taking a message in and saying so.
        self.answer_delay = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), message))
            self._lock.notify_all()
        await asyncio.sleep(self.answer_delay)
        return "250 OK"

    def wait_for(self, count: int = 1, seconds: float = 10.0) -> list[EmailMessage]:
        """The first `count` messages, once they are here."""
        deadline = time.monotonic() + seconds
        with self._lock:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} of {count} mails arrived"
                self._lock.wait(left)
            return [message for _, message in self.messages[:count]]

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"mail secret"
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)


@contextmanager
def smtp_server(
    inbox: Inbox,
    port: int | None = None,
    mode: str = "plain",
    certificate: Certificate | None = None,
) -> Iterator[int]:
    """Serve `inbox` on 127.0.0.1 (`plain`, `starttls` with login required, or `tls`)."""
    port = port or free_port()
    options: dict[str, Any] = {}
    if mode == "tls":
        assert certificate is not None
        options["ssl_context"] = certificate.server_context()
    elif mode == "starttls":
        assert certificate is not None
        options.update(
            tls_context=certificate.server_context(),
            require_starttls=True,
            authenticator=inbox.authenticate,
            auth_required=True,
        )
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    content: str = part.get_content()  # type: ignore[attr-defined]
    return content


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    content: str = part.get_content()  # type: ignore[attr-defined]
    return content


def link_in(message: EmailMessage) -> str:
    found = LINK.findall(text_of(message))
    assert len(found) == 1, text_of(message)
    return str(found[0])
