"""A staff user's forgotten password: the back office's pages and rules, on the links and
mails of mail/ (the portal's customers have the same in portal/recovery.py)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ..accounts.service import Account
from ..clock import utcnow
from ..db import Connection, Database
from ..fields import EMAIL_MAX, PASSWORD_MAX, PASSWORD_MIN, username_key
from ..mail import tokens
from ..mail.mailer import Mailer
from ..mail.messages import (
    EMAIL_CHANGED,
    EMAIL_CONFIRMATION,
    STAFF_INVITATION,
    STAFF_PASSWORD_RESET,
)
from ..passwords import hash_password
from ..portal.service import check_new_password
from ..staff import queries as staff_queries
from ..staff.service import UserNotFound
from ..threads import Busy
from ..web import links
from ..web.errors import FormExpired, PageError, TooManyAttempts
from ..web.i18n import N_
from ..web.links import EmailUnchanged, LinkUnusable, TooManyRequests
from ..web.pages import read_form
from ..web.sessions import csrf_matches
from . import errors
from .service import StaffView
from .web import Visit, admin_page

SUBJECT = "staff"
SETS_PASSWORD = ("password-reset", "invitation")
CHANGES_EMAIL = ("email-change",)
NOTICES = {"password-set": N_("Your password has been set. Log in with it.")}


# -- the rules ----------------------------------------------------------------------------


async def ask_password_reset(
    database: Database,
    mailer: Mailer,
    account: Account,
    identifier: str,
    address: str,
    request_base: str | None = None,
) -> None:
    """Mail a link to choose a new password to the active staff user named by `identifier`
    (a username or an e-mail address); the visitor is told the same either way."""
    found = await links.recipients(
        database,
        mailer,
        account,
        identifier,
        address,
        staff_queries.RECOVERY_BY_USERNAME,
        staff_queries.RECOVERY_BY_EMAIL,
        lambda identifier: {"emailaddress": identifier.lower()},
    )
    if not found:
        return

    async def write(connection: Connection) -> None:
        for iduser, username, emailaddress, language in found:
            await mailer.enqueue_link(
                connection,
                tokens.Subject(account.id, SUBJECT, iduser),
                STAFF_PASSWORD_RESET,
                f"/admin/{account.subdomain}/reset",
                emailaddress,
                language,
                account.name,
                request_base,
                username=username,
            )

    await database.write(write)
    mailer.written()


async def invite(connection: Connection, mailer: Mailer, account: Account, username: str) -> str:
    """Mail an active staff user a link to choose a password (in the caller's transaction);
    the address it goes to."""
    row = await connection.one(
        staff_queries.RECOVERY_BY_USERNAME,
        {"account_id": account.id, "username_key": username_key(username)},
    )
    if row is None:
        raise UserNotFound(f"'{username}' (an active user) of account '{account.subdomain}'")
    iduser, stored_username, emailaddress, language = row
    await mailer.enqueue_link(
        connection,
        tokens.Subject(account.id, SUBJECT, iduser),
        STAFF_INVITATION,
        f"/admin/{account.subdomain}/reset",
        emailaddress,
        language,
        account.name,
        username=stored_username,
    )
    return str(emailaddress)


async def check_password_link(database: Database, account: Account, token: str) -> None:
    await links.peek(database, account, SUBJECT, token, SETS_PASSWORD)


async def set_password(
    database: Database, account: Account, token: str, new_password: str, again: str
) -> None:
    """Use the link up and set the password, ending every session of the user. A second
    factor, when enrolled, is still asked for at the next login."""
    check_new_password(new_password, again)
    await check_password_link(database, account, token)
    try:
        password_hash = await hash_password(new_password)
    except Busy:
        raise errors.Unavailable() from None

    async def change(connection: Connection) -> None:
        used = await links.use(connection, account, SUBJECT, token, SETS_PASSWORD)
        key = {"account_id": account.id, "id": used.subject_id}
        user = await connection.one(staff_queries.FOR_LINK, key)
        if user is None or not user[0] or user[1].casefold() != used.emailaddress.casefold():
            raise LinkUnusable()
        values = {**key, "password_hash": password_hash, "now": utcnow()}
        await connection.execute(staff_queries.SET_PASSWORD_FROM_LINK, values)

    await database.write(change)


async def ask_email_change(
    visit: Visit, user: StaffView, current_password: str, new_address: str
) -> str:
    """Check the current password and mail a link to the new address; the address takes
    effect once the link is followed. Returns the new address."""
    database, account, office = visit.database, visit.account, visit.office
    retry_after = await office.throttle.attempt(account.id, user.username, visit.address)
    if retry_after is not None:
        raise TooManyAttempts(retry_after, account)
    key = {"account_id": account.id, "id": user.iduser}
    row = await database.read(lambda c: c.one(staff_queries.FOR_EMAIL_CHANGE, key))
    if row is None:
        raise errors.SessionEnded()
    await links.check_current_password(
        office.throttle,
        account,
        user.username,
        visit.address,
        row[0],
        current_password,
        errors.Unavailable,
    )
    new_address = links.new_address(new_address)
    if new_address == row[1]:
        raise EmailUnchanged()
    mailer = _mailer(visit)
    retry_after = await mailer.throttle.asked_from(visit.address)
    if retry_after is not None or not await mailer.throttle.may_mail(new_address):
        raise TooManyRequests(retry_after or 3600, account)

    async def write(connection: Connection) -> None:
        await mailer.enqueue_link(
            connection,
            tokens.Subject(account.id, SUBJECT, user.iduser),
            EMAIL_CONFIRMATION,
            f"/admin/{account.subdomain}/email/confirm",
            new_address,
            user.language,
            account.name,
            str(visit.request.base_url),
            username=user.username,
        )

    await database.write(write)
    mailer.written()
    return new_address


async def confirm_email(database: Database, mailer: Mailer, account: Account, token: str) -> str:
    """Use the link up and make the address it was sent to the user's; the address before
    is told. Returns the new address."""

    async def change(connection: Connection) -> str:
        used = await links.use(connection, account, SUBJECT, token, CHANGES_EMAIL)
        key = {"account_id": account.id, "id": used.subject_id}
        row = await connection.one(staff_queries.CONFIRM_EMAIL, key)
        if row is None:
            raise LinkUnusable()
        username, before, language = row
        values = {**key, "emailaddress": used.emailaddress, "now": utcnow()}
        await connection.execute(staff_queries.SET_EMAIL, values)
        if before.casefold() != used.emailaddress.casefold():
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


# -- the pages ----------------------------------------------------------------------------


def _mailer(visit: Visit) -> Mailer:
    mailer: Mailer = visit.request.app.state.mailer
    return mailer


@admin_page(logged_in=False)
async def forgot(visit: Visit) -> Response:
    """Ask for a link to choose a new password (GET: the form)."""
    if visit.request.method == "GET":
        language = visit.language(visit.request.query_params.get("lang"))
        sent = visit.request.query_params.get("sent") == "1"
        return visit.render("forgot.html", language=language, identifier="", sent=sent)
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    identifier = form.get("identifier", "")
    error: PageError
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        error = FormExpired()
        return visit.render(
            "forgot.html",
            error.status,
            language=language,
            error=error,
            identifier=identifier,
            sent=False,
        )
    try:
        await ask_password_reset(
            visit.database,
            _mailer(visit),
            visit.account,
            identifier,
            visit.address,
            str(visit.request.base_url),
        )
    except TooManyRequests as refused:
        page = visit.render(
            "forgot.html",
            refused.status,
            language=language,
            error=refused,
            identifier=identifier,
            sent=False,
        )
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    # POST, redirect, GET; the same answer whether or not the name is known.
    return visit.redirect(f"forgot?lang={language}&sent=1")


def _password_form(
    visit: Visit, language: str, token: str, error: PageError | None = None
) -> Response:
    return visit.render(
        "reset.html",
        error.status if error is not None else 200,
        language=language,
        error=error,
        token=token,
        password_min=PASSWORD_MIN,
        password_max=PASSWORD_MAX,
    )


@admin_page(logged_in=False)
async def reset(visit: Visit) -> Response:
    """Choose a password from a link (GET: the form, while the link is good)."""
    if visit.request.method == "GET":
        token = visit.request.query_params.get("token", "")
        language = visit.language(visit.request.query_params.get("lang"))
        try:
            await check_password_link(visit.database, visit.account, token)
        except LinkUnusable as error:
            return visit.render("link_unusable.html", error.status, language=language, error=error)
        return _password_form(visit, language, token)
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    token = form.get("token", "")
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        return _password_form(visit, language, token, FormExpired())
    try:
        await set_password(
            visit.database,
            visit.account,
            token,
            form.get("new_password", ""),
            form.get("new_password_again", ""),
        )
    except LinkUnusable as error:
        return visit.render("link_unusable.html", error.status, language=language, error=error)
    except PageError as error:
        return _password_form(visit, language, token, error)
    response = visit.redirect("login?notice=password-set")
    visit.keep(response, visit.new_session(language))
    return response


@admin_page()
async def change_email(visit: Visit) -> Response:
    """Change one's own e-mail address (GET: the form): a link goes to the new address."""
    user = visit.user
    assert user is not None
    page: dict[str, Any] = {"email_max": EMAIL_MAX, "password_max": PASSWORD_MAX}
    if visit.request.method == "GET":
        return visit.render("email.html", new_address="", sent=None, **page)
    form = await read_form(visit.request)
    new_address = form.get("new_address", "")
    if not csrf_matches(visit.session, form.get("csrf_token")):
        error: PageError = FormExpired()
        return visit.render(
            "email.html", error.status, error=error, new_address=new_address, sent=None, **page
        )
    try:
        sent = await ask_email_change(visit, user, form.get("current_password", ""), new_address)
    except PageError as error:
        answer = visit.render(
            "email.html", error.status, error=error, new_address=new_address, sent=None, **page
        )
        if isinstance(error, TooManyRequests | TooManyAttempts):
            answer.headers["Retry-After"] = str(error.retry_after)
        return answer
    return visit.render("email.html", new_address="", sent=sent, **page)


@admin_page(logged_in=False)
async def confirm_email_page(visit: Visit) -> Response:
    """Confirm a new e-mail address from the link mailed to it: a page with a button, so
    that a mail program that opens links changes nothing."""
    if visit.request.method == "GET":
        token = visit.request.query_params.get("token", "")
        language = visit.language(visit.request.query_params.get("lang"))

        async def peek(connection: Connection) -> tokens.Redeemed | None:
            return await tokens.peek(connection, visit.account.id, SUBJECT, token, CHANGES_EMAIL)

        found = await visit.database.read(peek)
        if found is None:
            error = LinkUnusable()
            return visit.render("link_unusable.html", error.status, language=language, error=error)
        return visit.render(
            "email_confirm.html",
            language=language,
            token=token,
            address=found.emailaddress,
            done=False,
        )
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        expired = FormExpired()
        return visit.render("link_unusable.html", expired.status, language=language, error=expired)
    try:
        address = await confirm_email(
            visit.database, _mailer(visit), visit.account, form.get("token", "")
        )
    except LinkUnusable as error:
        return visit.render("link_unusable.html", error.status, language=language, error=error)
    return visit.render(
        "email_confirm.html", language=language, token="", address=address, done=True
    )


def pages(prefix: str) -> list[Route]:
    return [
        Route(f"{prefix}/forgot", forgot, methods=["GET", "POST"]),
        Route(f"{prefix}/reset", reset, methods=["GET", "POST"]),
        Route(f"{prefix}/email", change_email, methods=["GET", "POST"]),
        Route(f"{prefix}/email/confirm", confirm_email_page, methods=["GET", "POST"]),
    ]
