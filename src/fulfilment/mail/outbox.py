"""The outbox: a mail is a row written in the same transaction as whatever asked for it,
and a worker in every process sends the due ones. Each mail is claimed for a lease before
it is sent, so several processes never send one at once, and one that dies mid-way leaves
the mail due again; a mail that cannot be sent is tried again later, on a schedule."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from ..db import Connection, Database, Row
from ..observability import MAIL_ABANDONED, MAIL_FAILURES, MAIL_SENT
from ..settings import Settings
from . import queries
from .messages import Mail
from .smtp import Outgoing, Sender, SendFailed

log = logging.getLogger("fulfilment.mail")

# Seconds from a failed attempt to the next: quick at first (a server restarting), then
# spread over about two days. After the last, the mail is abandoned.
RETRY_SCHEDULE = (10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)
# How long a claimed mail is left to the worker that claimed it (well past the SMTP timeout).
LEASE_SECONDS = 120
# Without a wake-up, how often each worker looks for due mails.
POLL_SECONDS = 5.0
BATCH = 10
STOP_GRACE_SECONDS = 5.0
STOP_TRIES = 10
STOP_WAIT_SECONDS = 0.5


def now() -> datetime:
    """Now, naive UTC, to the microsecond: retries may be seconds apart."""
    return datetime.now(UTC).replace(tzinfo=None)


async def enqueue(connection: Connection, account_id: int, mail: Mail) -> None:
    """Keep `mail` to be sent, in the caller's transaction."""
    await connection.execute(
        queries.ENQUEUE,
        {
            "account_id": account_id,
            "kind": mail.kind,
            "recipient": mail.recipient,
            "sender_name": mail.sender_name,
            "subject": mail.subject,
            "body_text": mail.body_text,
            "body_html": mail.body_html,
            "now": now(),
        },
    )


class MailWorker:
    """Sends the outbox's due mails, in the background of one process."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        retry_schedule: Sequence[float] = RETRY_SCHEDULE,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.database = database
        self.sender = Sender(settings)
        self.retry_schedule = tuple(retry_schedule)
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    def start(self) -> None:
        if self.sender.to_log:
            log.warning(
                "FULFILMENT_SMTP_URL is not set: mails are written to the log, links included "
                "(for development only)"
            )
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run())

    async def stop(self) -> None:
        """Stop sending. The mail being sent is given STOP_GRACE_SECONDS to be sent and
        recorded, so that it is not sent again; the rest of its batch, or a mail that takes
        longer, stays claimed until its lease ends."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
        if done:
            return
        # Python 3.11's asyncio.timeout can swallow a cancellation that meets its own
        # deadline: the flag ends the loop then, and the wait is bounded all the same.
        for _ in range(STOP_TRIES):
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=STOP_WAIT_SECONDS)
            if done:
                return
        log.warning("mail: the sender did not stop")

    def wake(self) -> None:
        """A mail was just written: look now rather than at the next poll. Safe from any
        thread or event loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                busy = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # The database away, most likely: the mails wait in it; look again later.
                log.warning("mail: looking for due mails failed: %s", error)
                busy = False
            if busy:
                continue
            self._wake.clear()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()

    async def send_due(self) -> bool:
        """Claim and send one batch of due mails; whether there were any."""
        due = {"now": now()}
        if (
            await self.database.read(lambda connection: connection.one(queries.ANY_DUE, due))
            is None
        ):
            return False
        claim = secrets.token_hex(16)
        values = {
            "now": now(),
            "lease_until": now() + timedelta(seconds=LEASE_SECONDS),
            "lease": claim,
            "limit": BATCH,
        }

        async def take(connection: Connection) -> list[Row]:
            return await connection.all(queries.CLAIM, values)

        claimed = await self.database.write(take)
        for row in claimed:
            if self._stopping:
                break
            await self._send(claim, row)
        return bool(claimed)

    async def _send(self, claim: str, row: Row) -> None:
        mail_id, kind, recipient, sender_name, subject, body_text, body_html, attempts = row
        mail = Outgoing(recipient, sender_name, subject, body_text or "", body_html or "")
        key = {"id": mail_id, "lease": claim, "now": now()}
        try:
            await self.sender.send(mail)
        except SendFailed as failure:
            MAIL_FAILURES.labels(kind).inc()
            error = str(failure)[:1000]
            if attempts > len(self.retry_schedule):
                MAIL_ABANDONED.labels(kind).inc()
                log.error(
                    "mail %d (%s) abandoned after %d attempts: %s",
                    mail_id,
                    kind,
                    attempts,
                    error,
                    extra={"mail_id": mail_id, "mail_kind": kind},
                )
                await self.database.write_statement(queries.ABANDONED, {**key, "error": error})
                return
            delay = self.retry_schedule[attempts - 1]
            log.warning(
                "mail %d (%s) not sent, attempt %d, next in %ss: %s",
                mail_id,
                kind,
                attempts,
                delay,
                error,
                extra={"mail_id": mail_id, "mail_kind": kind},
            )
            retry = {**key, "error": error, "next_attempt_at": now() + timedelta(seconds=delay)}
            await self.database.write_statement(queries.RETRY, retry)
            return
        MAIL_SENT.labels(kind).inc()
        log.info("mail %d (%s) sent", mail_id, kind, extra={"mail_id": mail_id, "mail_kind": kind})
        await self.database.write_statement(queries.SENT, key)
