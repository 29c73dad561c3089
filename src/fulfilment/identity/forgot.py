"""A forgotten password, for either kind of person. The visitor's request is only queued
(one row, the same for a known name and an unknown one, so the answer takes the same time
and tells nothing); a job of the engine then finds who is meant and mails each a link."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa

from ..accounts.service import Account
from ..clock import utcnow
from ..db import Connection, Database, Query
from ..fields import EMAIL_MAX, username_key
from ..jobs.handler import Finished, Handler, Places, forget_older_than
from ..jobs.queue import Queue
from ..mail.mailer import Mailer
from ..ratelimit import SharedCounters
from ..tables import accounts, password_requests
from .errors import TooManyRequests
from .kinds import KINDS, Kind, Person
from .links import RESET_MAILS, mail_link

log = logging.getLogger("fulfilment.identity")

# People sharing one address each get a mail of their own; past this many, none more.
SHARED_ADDRESS_MAX = 5
IDENTIFIER_MAX = max(EMAIL_MAX, 300)
RETRY_SCHEDULE = (10, 60, 300)

_p = sa.bindparam
requests = password_requests
QUEUE = Queue(requests)
ASK = sa.insert(requests).values(
    account_id=_p("account_id"),
    person_kind=_p("person_kind"),
    identifier=_p("identifier"),
    request_base=_p("request_base"),
    state="pending",
    attempts=0,
    next_attempt_at=_p("now"),
    created_at=_p("now"),
)


class Request(NamedTuple):
    """A forgotten password asked for, as the engine claimed it."""

    id: int
    account_id: int
    attempts: int
    person_kind: str
    identifier: str
    request_base: str | None
    subdomain: str
    account_name: str
    timezone: str


CLAIMED = Query(
    sa.select(
        requests.c.id,
        requests.c.account_id,
        requests.c.attempts,
        requests.c.person_kind,
        requests.c.identifier,
        requests.c.request_base,
        accounts.c.subdomain,
        accounts.c.name.label("account_name"),
        accounts.c.timezone,
    )
    .join(accounts, accounts.c.id == requests.c.account_id)
    .where(requests.c.claimed_by == _p("claim")),
    Request,
)
# Once a request has run, what was typed is not kept.
FORGET_IDENTIFIER = (
    sa.update(requests)
    .where(requests.c.id == _p("id"), requests.c.claimed_by == _p("claim"))
    .values(identifier="")
)


def _plausible(identifier: str) -> str:
    """The identifier as looked up, or "" for text no person can be named by."""
    identifier = identifier.strip()
    if not identifier or len(identifier) > IDENTIFIER_MAX or "\x00" in identifier:
        return ""
    try:
        identifier.encode("utf-8")
    except UnicodeEncodeError:
        return ""
    return identifier


async def ask(
    database: Database,
    mailer: Mailer,
    kind: Kind,
    account: Account,
    identifier: str,
    address: str,
    request_base: str | None = None,
) -> None:
    """Queue a request for a link to choose a new password, for the person named by
    `identifier` (a username or an e-mail address); only asking too often from one client
    address is refused. Nothing here depends on whether anyone is named."""
    retry_after = await mailer.throttle.asked_from(address)
    if retry_after is not None:
        raise TooManyRequests(retry_after, account)
    values = {
        "account_id": account.id,
        "person_kind": kind.name,
        "identifier": _plausible(identifier),
        "request_base": request_base,
        "now": utcnow(),
    }
    await database.write_statement(ASK, values)
    mailer.written()


async def recipients(
    connection: Connection, kind: Kind, account_id: int, identifier: str
) -> list[Person]:
    """Who a forgotten password named by `identifier` is mailed to: the person with that
    username and, for an address, the people with it (a few may share one)."""
    if not identifier:
        return []
    statements = kind.statements
    key = {"account_id": account_id, "username_key": username_key(identifier)}
    found = await connection.all(statements.recoverable_by_username, key)
    if "@" in identifier:
        values = {
            "account_id": account_id,
            "search_email": identifier.casefold(),
            "emailaddress": identifier.lower(),
            "limit": SHARED_ADDRESS_MAX,
        }
        found += await connection.all(statements.recoverable_by_email, values)
    return list({person.id: person for person in found}.values())[:SHARED_ADDRESS_MAX]


@dataclass(frozen=True, slots=True)
class Done:
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


class PasswordRequests(Handler):
    """The engine's kind for forgotten passwords: each request mails its links."""

    kind = "password_request"
    queue = QUEUE
    lease_seconds = 60.0

    def __init__(self, database: Database, shared: SharedCounters | None = None) -> None:
        self.database = database
        self.mailer = Mailer(database.settings, shared)

    def retry_delay(self, attempts_made: int) -> float | None:
        if attempts_made > len(RETRY_SCHEDULE):
            return None
        return RETRY_SCHEDULE[attempts_made - 1]

    async def load(self, connection: Connection, claim: str) -> Sequence[Request]:
        return await connection.all(CLAIMED, {"claim": claim})

    async def run(self, job: Request, places: Places, lease_end: float) -> Done:
        account = Account(job.account_id, job.subdomain, job.account_name, job.timezone)
        kind = KINDS[job.person_kind]
        async with places.take(job.account_id, lease_end - 5):
            try:
                await self._send(kind, account, job)
            except self.database.DatabaseError as error:
                return Done(str(error)[:1000])
        return Done()

    async def _send(self, kind: Kind, account: Account, job: Request) -> None:
        found = await self.database.read(lambda c: recipients(c, kind, account.id, job.identifier))
        mailed = [
            person
            for person in found
            if person.emailaddress and await self.mailer.throttle.may_mail(person.emailaddress)
        ]
        if not mailed:
            return

        async def write(connection: Connection) -> None:
            for person in mailed:
                await mail_link(
                    connection,
                    self.mailer,
                    kind,
                    account,
                    person,
                    RESET_MAILS[kind.name],
                    "reset",
                    job.request_base,
                )

        await self.database.write(write)

    async def record(self, connection: Connection, finished: list[Finished]) -> None:
        for done in finished:
            if done.result.succeeded:
                await connection.execute(
                    FORGET_IDENTIFIER, {"id": done.job.id, "claim": done.claim}
                )


async def forget_old(database: Database) -> None:
    """Retention: finished requests past the mail log's window."""
    await forget_older_than(database, database.settings.mail_log_retention_days, (QUEUE.forget,))
