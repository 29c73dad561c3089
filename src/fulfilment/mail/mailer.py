"""What the mail of one process needs to hand: the writer, the throttle, where links
lead, and a nudge for the worker once a mail is written."""

from __future__ import annotations

from collections.abc import Callable

from ..db import Connection
from ..ratelimit import SharedCounters
from ..settings import Settings
from . import outbox
from .messages import Mail, MailKind, shared_writer
from .throttle import MailThrottle

# Where links lead on a development machine without FULFILMENT_PUBLIC_URL, from the command
# line (`fulfilment serve`'s default address).
DEVELOPMENT_URL = "http://127.0.0.1:8000"


class Mailer:
    def __init__(
        self,
        settings: Settings,
        shared: SharedCounters | None = None,
        on_written: Callable[[], None] | None = None,
    ) -> None:
        self.writer = shared_writer()
        self.throttle = MailThrottle(settings, shared)
        self.public_url = settings.public_url.rstrip("/") if settings.public_url else None
        self._on_written = on_written

    def link(self, path: str, request_base: str | None = None) -> str:
        """An absolute link to `path` (`/portal/acme/reset?token=...`). It starts with
        FULFILMENT_PUBLIC_URL; without one (development, mails in the log) with the
        address the request came to."""
        base = self.public_url or (request_base or DEVELOPMENT_URL).rstrip("/")
        return base + path

    async def enqueue(self, connection: Connection, account_id: int, mail: Mail) -> None:
        """Keep `mail` to be sent, in the caller's transaction."""
        await outbox.enqueue(connection, account_id, mail)

    async def enqueue_link(
        self,
        connection: Connection,
        account_id: int,
        token: str,
        what: MailKind,
        page: str,
        recipient: str,
        language: str,
        account_name: str,
        request_base: str | None = None,
        **values: str,
    ) -> None:
        """Keep the mail that carries the link to `page` (`/portal/acme/reset`) with its
        one-time `token`, in the caller's transaction. The page opens in the mail's
        language."""
        link = self.link(f"{page}?lang={language}&token={token}", request_base)
        mail = self.writer.write(what, language, recipient, account_name, link, **values)
        await self.enqueue(connection, account_id, mail)

    def written(self) -> None:
        """The transaction that wrote mails has committed: send them now."""
        if self._on_written is not None:
            self._on_written()
