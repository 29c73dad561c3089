"""A real SMTP server for tests (aiosmtpd, on a thread of its own): plain, STARTTLS or
implicit TLS with a self-signed certificate, keeping every mail it accepts."""

from __future__ import annotations

import email
import email.policy
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers import free_port

LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certificate(folder: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (its own certificate authority)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


class Inbox:
    """What the server accepted: envelope recipients and parsed messages."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.logins: list[str] = []
        self._lock = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), message))
            self._lock.notify_all()
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
