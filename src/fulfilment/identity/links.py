"""Links mailed to a person, for either kind: choosing a password (a reset or an
invitation) and confirming a new e-mail address. Using a link changes credentials: every
session of the person ends and every other pending link of theirs is void."""

from __future__ import annotations

from datetime import timedelta

from ..accounts.service import Account
from ..actors import Actor
from ..clock import utcnow
from ..db import Connection, Database
from ..errors import CustomerNotFound, InvalidInput, NotFound
from ..fields import check_email, username_key
from ..mail.mailer import Mailer
from ..mail.messages import (
    CUSTOMER_INVITATION,
    EMAIL_CHANGED,
    EMAIL_CONFIRMATION,
    PASSWORD_RESET,
    STAFF_INVITATION,
    STAFF_PASSWORD_RESET,
    MailKind,
)
from ..passwords import hash_password
from ..pending_links import void_links
from ..settings import Settings
from ..web.errors import FieldErrors, PageError
from . import audit, tokens
from .errors import (
    EmailInvalid,
    EmailUnchanged,
    LinkUnusable,
    TooManyRequests,
    WrongCurrentPassword,
)
from .kinds import CUSTOMER, Kind, Person
from .login import check_current_password, new_password_problems
from .throttle import Throttle

SETS_PASSWORD = ("password-reset", "invitation")
CHANGES_EMAIL = ("email-change",)
RESET_MAILS = {"customer": PASSWORD_RESET, "staff": STAFF_PASSWORD_RESET}
INVITATION_MAILS = {"customer": CUSTOMER_INVITATION, "staff": STAFF_INVITATION}


def invitation_lifetime(settings: Settings) -> timedelta:
    """How long an invitation works (FULFILMENT_INVITATION_DAYS)."""
    return timedelta(days=settings.invitation_days)


def page(kind: Kind, account: Account, name: str) -> str:
    """The address of one of the kind's pages (`/portal/acme/reset`)."""
    return f"/{kind.site}/{account.subdomain}/{name}"


async def mail_link(
    connection: Connection,
    mailer: Mailer,
    kind: Kind,
    account: Account,
    person: Person,
    what: MailKind,
    name: str,
    request_base: str | None,
    to: str | None = None,
    lifetime: timedelta | None = None,
) -> None:
    """Mail `person` a link to the page `name`, at `to` (else its own address), in the
    caller's transaction."""
    recipient = to or person.emailaddress
    assert recipient is not None
    subject = tokens.Subject(account.id, kind.name, person.id)
    # The token's purpose is the kind of mail.
    token = await tokens.issue(connection, subject, what.kind, recipient, lifetime)
    await mailer.enqueue_link(
        connection,
        account.id,
        token,
        what,
        page(kind, account, name),
        recipient,
        person.language,
        account.name,
        request_base,
        username=person.username or "",
    )


async def peek(
    database: Database, kind: Kind, account: Account, token: str, purposes: tuple[str, ...]
) -> tokens.Redeemed:
    """A usable link for one of `purposes`, without using it up; LinkUnusable otherwise."""

    async def read(connection: Connection) -> tokens.Redeemed | None:
        return await tokens.peek(connection, account.id, kind.name, token, purposes)

    found = await database.read(read)
    if found is None:
        raise LinkUnusable()
    return found


async def _use(
    connection: Connection, kind: Kind, account: Account, token: str, purposes: tuple[str, ...]
) -> tuple[tokens.Redeemed, Person]:
    """Use the link up, with its person (locked) while the address it went to is still
    theirs; LinkUnusable otherwise."""
    used = await tokens.use(connection, account.id, kind.name, token, purposes)
    if used is None:
        raise LinkUnusable()
    key = {"account_id": account.id, "id": used.subject_id}
    person = await connection.one(kind.statements.locked, key)
    if person is None or person.username is None:
        raise LinkUnusable()
    return used, person


# -- a password chosen from a link ----------------------------------------------------------


async def check_password_link(database: Database, kind: Kind, account: Account, token: str) -> str:
    """The purpose of a usable link to set a password (a reset or an invitation)."""
    return (await peek(database, kind, account, token, SETS_PASSWORD)).purpose


async def set_password(
    database: Database, kind: Kind, account: Account, token: str, new_password: str, again: str
) -> None:
    """Use the link up and set the password it was sent for: every error of the form at
    once; every session of the person ends and every other link of theirs is void. An
    invitation lets a customer log in from now on: one made before login was turned off
    was voided then, so it never turns login back on."""
    problems = new_password_problems(new_password, again)
    if problems:
        raise FieldErrors(problems)
    # Looked at before the slow hash, so that a dead link costs no argon2id.
    await check_password_link(database, kind, account, token)
    password_hash = await hash_password(new_password)

    async def change(connection: Connection) -> None:
        used, person = await _use(connection, kind, account, token, SETS_PASSWORD)
        invited = used.purpose == "invitation"
        sent_to = used.emailaddress.casefold()
        if (person.emailaddress or "").casefold() != sent_to:
            raise LinkUnusable()
        turns_on = invited and kind is CUSTOMER and not person.may_log_in
        if not person.may_log_in and not turns_on:
            raise LinkUnusable()
        key = {"account_id": account.id, "id": person.id}
        await connection.execute(
            kind.statements.set_password, {**key, "password_hash": password_hash, "now": utcnow()}
        )
        changes = {"can_login": {"from": False, "to": True}} if turns_on else None
        if turns_on:
            await connection.execute(kind.statements.allow_login, key)
        await void_links(connection, kind.name, account.id, person.id)
        action = "accept_invitation" if invited else "set_password"
        await audit.record(
            connection, kind, account.id, person, action, audit.by_self(kind, person), changes
        )

    await database.write(change)


async def invite(
    connection: Connection,
    mailer: Mailer,
    kind: Kind,
    account: Account,
    person_id: int,
    lifetime: timedelta,
    request_base: str | None = None,
) -> str:
    """Mail the person a link to choose a password (in the caller's transaction); the
    address it goes to. The person needs a username and an e-mail address."""
    person = await connection.one(
        kind.statements.by_id, {"account_id": account.id, "id": person_id}
    )
    if person is None:
        if kind is CUSTOMER:
            raise CustomerNotFound(person_id)
        raise NotFound(f"No {kind.name} {person_id} in account '{account.subdomain}'.")
    if kind is not CUSTOMER and not person.may_log_in:
        raise NotFound(f"No active {kind.name} {person_id} in account '{account.subdomain}'.")
    if person.username is None or person.emailaddress is None:
        raise InvalidInput(f"The {kind.name} needs a username and an e-mail address to be invited.")
    what = INVITATION_MAILS[kind.name]
    await mail_link(
        connection, mailer, kind, account, person, what, "reset", request_base, lifetime=lifetime
    )
    return person.emailaddress


async def person_named(connection: Connection, kind: Kind, account: Account, username: str) -> int:
    """The id of the person with this username, or NotFound."""
    key = {"account_id": account.id, "username_key": username_key(username)}
    person = await connection.one(kind.statements.by_username, key)
    if person is None:
        raise NotFound(f"No {kind.name} '{username}' in account '{account.subdomain}'.")
    return int(person.id)


# -- a new e-mail address ------------------------------------------------------------------


def new_address(typed: str) -> str:
    """A new e-mail address as typed, trimmed; EmailInvalid when it is not one mailbox."""
    typed = typed.strip()
    try:
        typed.encode("utf-8")
        check_email(typed)
    except (ValueError, UnicodeEncodeError):
        raise EmailInvalid() from None
    return typed


async def ask_email_change(
    database: Database,
    mailer: Mailer,
    throttle: Throttle,
    kind: Kind,
    account: Account,
    person: Person,
    current_password: str,
    typed_address: str,
    address: str,
    request_base: str | None = None,
) -> str:
    """Check the current password and mail a link to the new address, every error of the
    form at once; the address takes effect once the link is followed. Returns it."""
    problems: dict[str, PageError] = {}
    wanted = ""
    try:
        wanted = new_address(typed_address)
        if (person.emailaddress or "") == wanted:
            raise EmailUnchanged()
    except (EmailInvalid, EmailUnchanged) as refused:
        problems["new_address"] = refused
    if not await check_current_password(throttle, kind, account, person, current_password, address):
        problems = {"current_password": WrongCurrentPassword(), **problems}
    if problems:
        raise FieldErrors(problems)
    retry_after = await mailer.throttle.asked_from(address)
    if retry_after is not None or not await mailer.throttle.may_mail(wanted):
        raise TooManyRequests(retry_after or 3600, account)

    async def write(connection: Connection) -> None:
        await mail_link(
            connection,
            mailer,
            kind,
            account,
            person,
            EMAIL_CONFIRMATION,
            "email/confirm",
            request_base,
            to=wanted,
        )

    await database.write(write)
    mailer.written()
    return wanted


async def check_email_link(database: Database, kind: Kind, account: Account, token: str) -> str:
    """The address a usable confirmation link names; LinkUnusable otherwise."""
    return (await peek(database, kind, account, token, CHANGES_EMAIL)).emailaddress


async def confirm_email(
    database: Database, mailer: Mailer, kind: Kind, account: Account, token: str
) -> str:
    """Use the link up and make the address it was sent to the person's: its sessions end,
    its other links are void, and the address before is told. Returns the new address."""

    async def change(connection: Connection) -> str:
        used, person = await _use(connection, kind, account, token, CHANGES_EMAIL)
        if not person.may_log_in:
            raise LinkUnusable()
        wanted = used.emailaddress
        values = {
            "account_id": account.id,
            "id": person.id,
            "emailaddress": wanted,
            "search_email": wanted.casefold(),
            "now": utcnow(),
        }
        await connection.execute(kind.statements.set_email, values)
        await void_links(connection, kind.name, account.id, person.id)
        changes = {"emailaddress": {"from": person.emailaddress, "to": wanted}}
        actor: Actor = audit.by_self(kind, person)
        await audit.record(connection, kind, account.id, person, "change_email", actor, changes)
        before = person.emailaddress
        if before is not None and before.casefold() != wanted.casefold():
            mail = mailer.writer.write(
                EMAIL_CHANGED,
                person.language,
                before,
                account.name,
                username=person.username or "",
                address=wanted,
            )
            await mailer.enqueue(connection, account.id, mail)
        return wanted

    address = await database.write(change)
    mailer.written()
    return address
