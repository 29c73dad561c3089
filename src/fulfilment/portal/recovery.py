"""The portal's rules for links sent by mail: a forgotten password, an invitation to choose
one, and a new e-mail address confirmed from the mailbox it names."""

from __future__ import annotations

from ..accounts.service import Account
from ..customers import service as customers
from ..db import Connection, Database, Row
from ..errors import CustomerNotFound, InvalidInput
from ..mail import tokens
from ..mail.mailer import Mailer
from ..mail.messages import (
    CUSTOMER_INVITATION,
    EMAIL_CHANGED,
    EMAIL_CONFIRMATION,
    PASSWORD_RESET,
    MailKind,
)
from ..passwords import hash_password
from ..threads import Busy
from ..web import links
from ..web.links import EmailInvalid as EmailInvalid
from ..web.links import EmailUnchanged as EmailUnchanged
from ..web.links import LinkUnusable as LinkUnusable
from ..web.links import TooManyRequests as TooManyRequests
from ..web.sessions import Session
from ..web.throttle import LoginThrottle
from . import queries
from .errors import TooManyAttempts, Unavailable
from .service import check_new_password, current_customer

SUBJECT = "customer"
SETS_PASSWORD = ("password-reset", "invitation")
CHANGES_EMAIL = ("email-change",)


async def _send_link(
    connection: Connection,
    mailer: Mailer,
    account: Account,
    row: Row,
    what: MailKind,
    page: str,
    request_base: str | None,
    to: str | None = None,
) -> None:
    """Mail the customer of `row` a link to `page`, at `to` (else its own address)."""
    customer_id, username, emailaddress, language = row
    await mailer.enqueue_link(
        connection,
        tokens.Subject(account.id, SUBJECT, customer_id),
        what,
        f"/portal/{account.subdomain}/{page}",
        to or emailaddress,
        language,
        account.name,
        request_base,
        username=username,
    )


# -- a forgotten password -----------------------------------------------------------------


async def ask_password_reset(
    database: Database,
    mailer: Mailer,
    account: Account,
    identifier: str,
    address: str,
    request_base: str | None = None,
) -> None:
    """Mail a link to choose a new password to the customer named by `identifier` (a
    username or an e-mail address), when there is one that may log in and has an address.
    The visitor is told the same either way; only asking too often from one client address
    is refused."""
    found = await links.recipients(
        database,
        mailer,
        account,
        identifier,
        address,
        queries.RECOVERY_BY_USERNAME,
        queries.RECOVERY_BY_EMAIL,
        lambda identifier: {"search_email": identifier.casefold()},
    )
    if not found:
        return

    async def write(connection: Connection) -> None:
        for row in found:
            await _send_link(
                connection, mailer, account, row, PASSWORD_RESET, "reset", request_base
            )

    await database.write(write)
    mailer.written()


async def check_password_link(database: Database, account: Account, token: str) -> str:
    """The purpose of a usable link to set a password (a reset or an invitation), without
    using it up; LinkUnusable otherwise."""

    return (await links.peek(database, account, SUBJECT, token, SETS_PASSWORD)).purpose


async def set_password(
    database: Database, account: Account, token: str, new_password: str, again: str
) -> None:
    """Use the link up and set the password it was sent for, ending every session of the
    customer; an invitation lets the customer log in from now on."""
    check_new_password(new_password, again)
    # Looked at before the slow hash, so that a dead link costs no argon2id.
    await check_password_link(database, account, token)
    try:
        password_hash = await hash_password(new_password)
    except Busy:
        raise Unavailable() from None

    async def change(connection: Connection) -> None:
        used = await links.use(connection, account, SUBJECT, token, SETS_PASSWORD)
        username = await customers.set_password_from_link(
            connection,
            account.id,
            used.subject_id,
            used.emailaddress,
            password_hash,
            allow_login=used.purpose == "invitation",
        )
        if username is None:
            raise LinkUnusable()

    await database.write(change)


async def invite(connection: Connection, mailer: Mailer, account: Account, customer_id: int) -> str:
    """Mail the customer a link to choose a portal password (in the caller's transaction);
    the address it goes to. The customer needs a username and an e-mail address."""
    row = await connection.one(queries.INVITEE, {"account_id": account.id, "id": customer_id})
    if row is None:
        if await connection.one(
            queries.INVITEE_EXISTS, {"account_id": account.id, "id": customer_id}
        ):
            raise InvalidInput("The customer needs a username and an e-mail address to be invited.")
        raise CustomerNotFound(customer_id)
    await _send_link(connection, mailer, account, row, CUSTOMER_INVITATION, "reset", None)
    return str(row[2])


# -- a new e-mail address -----------------------------------------------------------------


async def ask_email_change(
    database: Database,
    mailer: Mailer,
    throttle: LoginThrottle,
    account: Account,
    session: Session,
    current_password: str,
    new_address: str,
    address: str,
    request_base: str | None = None,
) -> str:
    """Check the current password and mail a link to the new address; the address takes
    effect once the link is followed. Returns the new address."""
    customer = await current_customer(database, account, session)
    retry_after = await throttle.attempt(account.id, customer.username, address)
    if retry_after is not None:
        raise TooManyAttempts(retry_after, account)
    await links.check_current_password(
        throttle,
        account,
        customer.username,
        address,
        customer.password_hash,
        current_password,
        Unavailable,
    )
    new_address = links.new_address(new_address)
    if customer.emailaddress is not None and customer.emailaddress == new_address:
        raise EmailUnchanged()
    retry_after = await mailer.throttle.asked_from(address)
    if retry_after is not None or not await mailer.throttle.may_mail(new_address):
        raise TooManyRequests(retry_after or 3600, account)
    assert session.customer is not None
    row = (session.customer, customer.username, customer.emailaddress, customer.language)

    async def write(connection: Connection) -> None:
        await _send_link(
            connection,
            mailer,
            account,
            row,
            EMAIL_CONFIRMATION,
            "email/confirm",
            request_base,
            to=new_address,
        )

    await database.write(write)
    mailer.written()
    return new_address


async def check_email_link(database: Database, account: Account, token: str) -> str:
    """The address a usable confirmation link names; LinkUnusable otherwise."""

    return (await links.peek(database, account, SUBJECT, token, CHANGES_EMAIL)).emailaddress


async def confirm_email(database: Database, mailer: Mailer, account: Account, token: str) -> str:
    """Use the link up and make the address it was sent to the customer's; the address
    before is told. Returns the new address."""

    async def change(connection: Connection) -> str:
        used = await links.use(connection, account, SUBJECT, token, CHANGES_EMAIL)
        changed = await customers.set_email_from_link(
            connection, account.id, used.subject_id, used.emailaddress
        )
        if changed is None:
            raise LinkUnusable()
        username, before, language = changed
        if before is not None and before.casefold() != used.emailaddress.casefold():
            mail = mailer.writer.write(
                EMAIL_CHANGED,
                language,
                before,
                account.name,
                username=username,
                address=used.emailaddress,
            )
            await mailer.enqueue(connection, account.id, mail)
        return used.emailaddress

    new_address = await database.write(change)
    mailer.written()
    return new_address
