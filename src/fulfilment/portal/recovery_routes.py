"""The portal's pages for links sent by mail: asking for a forgotten password, choosing a
password from a link (a reset or an invitation), and changing the e-mail address."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ..fields import EMAIL_MAX, PASSWORD_MAX, PASSWORD_MIN
from ..mail.mailer import Mailer
from ..web.i18n import N_
from ..web.pages import read_form
from ..web.sessions import csrf_matches
from . import errors, recovery, service
from .errors import PortalError, SessionEnded
from .web import Visit, portal_page

# Notices of the login page.
NOTICES = {"password-set": N_("Your password has been set. Log in with it.")}


def _mailer(visit: Visit) -> Mailer:
    mailer: Mailer = visit.request.app.state.mailer
    return mailer


def _request_base(visit: Visit) -> str:
    return str(visit.request.base_url)


def _refused(
    visit: Visit, template: str, language: str, error: PortalError, **context: object
) -> Response:
    page = visit.render(template, language, error.status, error=error, **context)
    if isinstance(error, recovery.TooManyRequests | errors.TooManyAttempts):
        page.headers["Retry-After"] = str(error.retry_after)
    return page


@portal_page
async def forgot(visit: Visit) -> Response:
    """Ask for a link to choose a new password (GET: the form)."""
    if visit.request.method == "GET":
        language = visit.language(visit.request.query_params.get("lang"))
        sent = visit.request.query_params.get("sent") == "1"
        return visit.render("forgot.html", language, identifier="", sent=sent)
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    identifier = form.get("identifier", "")
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        return _refused(
            visit, "forgot.html", language, errors.FormExpired(), identifier=identifier, sent=False
        )
    try:
        await recovery.ask_password_reset(
            visit.portal.database,
            _mailer(visit),
            visit.account,
            identifier,
            visit.address,
            _request_base(visit),
        )
    except recovery.TooManyRequests as refused:
        return _refused(visit, "forgot.html", language, refused, identifier=identifier, sent=False)
    # POST, redirect, GET; the same answer whether or not the name is known.
    return visit.redirect(f"forgot?lang={language}&sent=1")


def _unusable(visit: Visit, language: str, error: PortalError, again: bool) -> Response:
    return visit.render("link_unusable.html", language, error.status, error=error, again=again)


@portal_page
async def reset(visit: Visit) -> Response:
    """Choose a password from a link (GET: the form, while the link is good)."""
    database = visit.portal.database
    if visit.request.method == "GET":
        token = visit.request.query_params.get("token", "")
        language = visit.language(visit.request.query_params.get("lang"))
        try:
            purpose = await recovery.check_password_link(database, visit.account, token)
        except recovery.LinkUnusable as error:
            return _unusable(visit, language, error, again=True)
        return _password_form(visit, language, token, purpose)
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    token = form.get("token", "")
    purpose = form.get("purpose", "")
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        return _password_form(visit, language, token, purpose, errors.FormExpired())
    try:
        await recovery.set_password(
            database,
            visit.account,
            token,
            form.get("new_password", ""),
            form.get("new_password_again", ""),
        )
    except recovery.LinkUnusable as error:
        return _unusable(visit, language, error, again=True)
    except PortalError as error:
        return _password_form(visit, language, token, purpose, error)
    # Whoever was logged in here is not any more: the password's sessions have all ended.
    response = visit.redirect("login?notice=password-set")
    visit.keep(response, visit.new_session(language))
    return response


def _password_form(
    visit: Visit, language: str, token: str, purpose: str, error: PortalError | None = None
) -> Response:
    return visit.render(
        "reset.html",
        language,
        error.status if error is not None else 200,
        error=error,
        token=token,
        invitation=purpose == "invitation",
        purpose=purpose,
        password_min=PASSWORD_MIN,
        password_max=PASSWORD_MAX,
    )


@portal_page
async def change_email(visit: Visit) -> Response:
    """Change the e-mail address (GET: the form): a link goes to the new address."""
    session = visit.session
    if session is None or not session.logged_in:
        return visit.redirect("login")
    database = visit.portal.database
    try:
        customer = await service.current_customer(database, visit.account, session)
    except SessionEnded:
        return visit.redirect("login?notice=ended")
    page: dict[str, Any] = {
        "customer": customer,
        "email_max": EMAIL_MAX,
        "password_max": PASSWORD_MAX,
    }
    if visit.request.method == "GET":
        return visit.render("email.html", customer.language, new_address="", sent=None, **page)
    form = await read_form(visit.request)
    new_address = form.get("new_address", "")
    if not csrf_matches(session, form.get("csrf_token")):
        return _refused(
            visit,
            "email.html",
            customer.language,
            errors.FormExpired(),
            new_address=new_address,
            sent=None,
            **page,
        )
    try:
        sent = await recovery.ask_email_change(
            database,
            _mailer(visit),
            visit.portal.throttle,
            visit.account,
            session,
            form.get("current_password", ""),
            new_address,
            visit.address,
            _request_base(visit),
        )
    except SessionEnded:
        return visit.redirect("login?notice=ended")
    except PortalError as error:
        return _refused(
            visit,
            "email.html",
            customer.language,
            error,
            new_address=new_address,
            sent=None,
            **page,
        )
    return visit.render("email.html", customer.language, new_address="", sent=sent, **page)


@portal_page
async def confirm_email(visit: Visit) -> Response:
    """Confirm a new e-mail address from the link mailed to it. The link opens a page with
    a button: a mail program that fetches links to look at them changes nothing."""
    database = visit.portal.database
    if visit.request.method == "GET":
        token = visit.request.query_params.get("token", "")
        language = visit.language(visit.request.query_params.get("lang"))
        try:
            address = await recovery.check_email_link(database, visit.account, token)
        except recovery.LinkUnusable as error:
            return _unusable(visit, language, error, again=False)
        return visit.render(
            "email_confirm.html", language, token=token, address=address, done=False
        )
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    token = form.get("token", "")
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        return _unusable(visit, language, errors.FormExpired(), again=False)
    try:
        address = await recovery.confirm_email(database, _mailer(visit), visit.account, token)
    except recovery.LinkUnusable as error:
        return _unusable(visit, language, error, again=False)
    return visit.render("email_confirm.html", language, token="", address=address, done=True)


def pages(prefix: str) -> list[Route]:
    return [
        Route(f"{prefix}/forgot", forgot, methods=["GET", "POST"]),
        Route(f"{prefix}/reset", reset, methods=["GET", "POST"]),
        Route(f"{prefix}/email", change_email, methods=["GET", "POST"]),
        Route(f"{prefix}/email/confirm", confirm_email, methods=["GET", "POST"]),
    ]
