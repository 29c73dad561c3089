"""Mails as a kind of the engine's jobs: a claimed mail is sent through the SMTP server
(smtp.py), tried again on the mail's schedule when it is not accepted, and given up on
after the last retry. Several processes never send one mail at once (the lease), and a
process that dies mid-way leaves it due again."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from ..db import Connection, Database
from ..jobs.handler import Finished, Handler, Places, forget_older_than
from ..jobs.queue import FAILED, PENDING
from ..observability import MAIL_ABANDONED, MAIL_FAILURES, MAIL_SENT
from ..settings import Settings
from . import queries
from .queries import MailJob
from .smtp import TIMEOUT_SECONDS as SMTP_TIMEOUT_SECONDS
from .smtp import Outgoing, Sender, SendFailed

log = logging.getLogger("fulfilment.mail")

# Seconds from a failed attempt to the next: quick at first (a server restarting), then
# spread over about two days. After the last, the mail is given up on.
RETRY_SCHEDULE = (10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)
# How long a claimed mail is left to the process that claimed it (well past the SMTP
# timeout).
LEASE_SECONDS = 120


@dataclass(frozen=True, slots=True)
class Sending:
    """An attempt's outcome: the error in words when the server did not accept it."""

    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


class MailSending(Handler):
    kind = "mail"
    queue = queries.QUEUE
    lease_seconds = LEASE_SECONDS

    def __init__(self, settings: Settings, retry_schedule: Sequence[float] = RETRY_SCHEDULE):
        self.sender = Sender(settings)
        self.retry_schedule = tuple(retry_schedule)
        if self.sender.to_log:
            log.warning(
                "FULFILMENT_SMTP_URL is not set: mails are written to the log, links included "
                "(for development only)"
            )

    def retry_delay(self, attempts_made: int) -> float | None:
        if attempts_made > len(self.retry_schedule):
            return None
        return self.retry_schedule[attempts_made - 1]

    async def load(self, connection: Connection, claim: str) -> Sequence[MailJob]:
        return await connection.all(queries.CLAIMED, {"claim": claim})

    async def run(self, job: MailJob, places: Places, lease_end: float) -> Sending:
        mail = Outgoing(
            job.recipient, job.sender_name, job.subject, job.body_text or "", job.body_html or ""
        )
        async with places.take(job.account_id, lease_end - SMTP_TIMEOUT_SECONDS - 1):
            try:
                await self.sender.send(mail)
            except SendFailed as failure:
                MAIL_FAILURES.labels(job.kind).inc()
                return Sending(str(failure)[:1000])
        MAIL_SENT.labels(job.kind).inc()
        return Sending()

    async def record(self, connection: Connection, finished: list[Finished]) -> None:
        for done in finished:
            job: MailJob = done.job
            key = {"id": job.id, "claim": done.claim}
            extra = {"mail_id": job.id, "mail_kind": job.kind}
            made = job.attempts + 1
            error = done.result.error
            if error is not None:
                await connection.execute(queries.NOTE_ERROR, {**key, "error": error})
            if done.state != PENDING:
                await connection.execute(queries.DROP_BODIES, key)
            if done.state == FAILED:
                MAIL_ABANDONED.labels(job.kind).inc()
                log.error(
                    "mail %d (%s) given up on after %d attempts: %s",
                    job.id, job.kind, made, error, extra=extra,
                )  # fmt: skip
            elif done.state == PENDING:
                log.warning(
                    "mail %d (%s) not sent, attempt %d, next in %ss: %s",
                    job.id, job.kind, made, self.retry_delay(made), error, extra=extra,
                )  # fmt: skip
            else:
                log.info("mail %d (%s) sent", job.id, job.kind, extra=extra)


async def forget_old(database: Database) -> None:
    """Retention: sent and failed mails' rows, and links used or expired, older than the
    set days."""
    await forget_older_than(
        database,
        database.settings.mail_log_retention_days,
        (queries.FORGET_MAILS, queries.FORGET_TOKENS),
    )
