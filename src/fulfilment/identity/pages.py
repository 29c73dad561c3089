"""The pages of logging in, written once for both sites: each site registers them under
its own addresses, with its own page wrapper, base template and words. `SitePages` says
which kind of person a site is for and where its pages lead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import segno
from markupsafe import Markup
from starlette.responses import Response

from ..fields import LANGUAGES
from ..mail.mailer import Mailer
from ..web.errors import FormExpired, PageError, RetryLater
from ..web.i18n import N_
from ..web.pages import read_form
from ..web.sessions import csrf_matches
from ..web.visits import PageVisit
from . import audit, factors, login
from .errors import LoginRefused, SessionEnded, TooManyAttempts, UsePasskey, WrongCode
from .kinds import Kind, Person
from .throttle import throttles_of

NOTICES = {
    "logged-out": N_("You have been logged out."),
    "ended": SessionEnded.message,
    "password-set": N_("Your password has been set. Log in with it."),
    "email-changed": N_("Your e-mail address has been changed. Log in again."),
}
# Where a login's stage leads.
STAGE_PAGES = {"code": "second-factor", "enrol": "enrol", "in": ""}


@dataclass(frozen=True, slots=True)
class SitePages:
    """A site's choices: the kind of person it is for, and where a finished second
    factor's set-up leads (`done`)."""

    kind: Kind
    done: str


Visit = PageVisit[Any]


def notice(visit: Visit) -> str | None:
    return NOTICES.get(visit.request.query_params.get("notice", ""))


def mailer_of(visit: Visit) -> Mailer:
    mailer: Mailer = visit.request.app.state.mailer
    return mailer


def with_retry_after(page: Response, error: PageError) -> Response:
    if isinstance(error, RetryLater):
        page.headers["Retry-After"] = str(error.retry_after)
    return page


def start(visit: Visit, logged_in: login.LoggedIn, language: str | None) -> Response:
    """The session of a login at the stage it reached, with a new form token (nothing from
    before it carries over), and the page that stage leads to."""
    old = visit.session
    session = visit.new_session(
        language,
        account=visit.account.id,
        person=logged_in.person,
        version=logged_in.version,
        stage=logged_in.stage,
    )
    if old is not None and old.person == logged_in.person and old.stage != "in":
        # The second factor of a login does not make the login last longer.
        session.expires = old.expires
    response = visit.redirect(STAGE_PAGES[logged_in.stage])
    visit.keep(response, session)
    return response


async def current(visit: Visit, site: SitePages) -> Person | Response:
    """The logged-in person of the visit, or the page to go to instead: the login form,
    or setting up the second factor the account requires (checked at every request)."""
    session = visit.session
    if session is None or not session.logged_in:
        return visit.redirect("login")
    try:
        person = await login.session_person(visit.site.database, site.kind, visit.account, session)
    except SessionEnded:
        return logged_out(visit, "ended")
    if await login.must_enrol(visit.site.database, site.kind, visit.account, person):
        return visit.redirect("enrol")
    return person


def logged_out(visit: Visit, why: str) -> Response:
    language = visit.session.language if visit.session else None
    response = visit.redirect(f"login?notice={why}")
    visit.keep(response, visit.new_session(language))
    return response


# -- logging in ---------------------------------------------------------------------------


async def log_in(visit: Visit, site: SitePages) -> Response:
    """The login form (GET) and the password (POST)."""
    if visit.request.method == "GET":
        chosen = visit.request.query_params.get("lang")
        chosen = chosen if chosen in LANGUAGES else None
        session = visit.session
        if session is not None and session.logged_in:
            found = await current(visit, site)
            if isinstance(found, Person):
                return visit.redirect("")
            session = visit.new_session(session.language)
        if session is not None and chosen is not None:
            session.language = chosen
        return visit.page(
            "login.html", visit.language(chosen), 200, notice=notice(visit), username=""
        )
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    username = form.get("username", "")
    error: PageError
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        error = FormExpired()
        return visit.page("login.html", language, error.status, error=error, username=username)
    database, kind = visit.site.database, site.kind
    try:
        person = await login.check_password(
            database,
            throttles_of(visit).passwords,
            kind,
            visit.account,
            username,
            form.get("password", ""),
            visit.address,
        )
    except (LoginRefused, TooManyAttempts) as refused:
        page = visit.page("login.html", language, refused.status, error=refused, username=username)
        return with_retry_after(page, refused)
    try:
        logged_in = await login.proved(database, kind, visit.account, person, "password")
    except UsePasskey as refused:
        return visit.page("login.html", language, refused.status, error=refused, username=username)
    # The session keeps the language the login form was in.
    return start(visit, logged_in, language)


async def _pending(visit: Visit, site: SitePages, stage: str) -> Person | None:
    """The person of a session between its password and `stage`'s step."""
    session = visit.session
    if session is None or session.stage != stage:
        return None
    try:
        return await login.session_person(visit.site.database, site.kind, visit.account, session)
    except SessionEnded:
        return None


async def second_factor(visit: Visit, site: SitePages) -> Response:
    """The code from the authenticator app, or a recovery code."""
    person = await _pending(visit, site, "code")
    if person is None:
        return visit.redirect("login")
    language = person.language
    if visit.request.method == "GET":
        return visit.page("code.html", language, 200)
    form = await read_form(visit.request)
    if not csrf_matches(visit.session, form.get("csrf_token")):
        return visit.page("code.html", language, 400, error=FormExpired())
    database, kind = visit.site.database, site.kind
    try:
        factor = await factors.check_code(
            database,
            throttles_of(visit).codes,
            kind,
            visit.account,
            person,
            form.get("code", ""),
            visit.address,
        )
    except (WrongCode, TooManyAttempts) as refused:
        return with_retry_after(
            visit.page("code.html", language, refused.status, error=refused), refused
        )
    logged_in = await login.proved(database, kind, visit.account, person, factor)
    return start(visit, logged_in, language)


def _qr_code(uri: str) -> Markup:
    """The set-up address as a QR code, drawn here as inline SVG: no script, no image from
    elsewhere."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own markup, with no text of the visitor's


async def enrolling(visit: Visit, site: SitePages) -> tuple[Person, bool] | Response:
    """The person of a visit to the set-up of a second factor, and whether the account
    requires it: on the way in (the session's stage "enrol"), or logged in (required when
    the requirement came after the login); else the page to go to instead."""
    session = visit.session
    database, kind, account = visit.site.database, site.kind, visit.account
    if session is not None and session.stage == "enrol":
        person = await _pending(visit, site, "enrol")
        return visit.redirect("login") if person is None else (person, True)
    if session is None or not session.logged_in:
        return visit.redirect("login")
    try:
        person = await login.session_person(database, kind, account, session)
    except SessionEnded:
        return logged_out(visit, "ended")
    return person, await login.must_enrol(database, kind, account, person)


async def enrol_page(
    visit: Visit, site: SitePages, person: Person, required: bool, status: int, **context: object
) -> Response:
    """The set-up page: the TOTP seed to scan and, where passkeys work, making a passkey
    instead (passkey_pages.enrol)."""
    secret = await factors.seed_to_confirm(visit.site.database, site.kind, visit.account, person)
    uri = factors.provisioning_uri(secret, person.username or "", visit.account.name)
    return visit.page(
        "enrol.html",
        person.language,
        status,
        qr_code=_qr_code(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=required,
        **context,
    )


async def enrol(visit: Visit, site: SitePages) -> Response:
    """Set up the second factor: scan the code, type a code back, get recovery codes. On
    the way in when the account requires one, or later from the person's own pages."""
    found = await enrolling(visit, site)
    if isinstance(found, Response):
        return found
    person, required = found
    session = visit.session
    database, kind, account = visit.site.database, site.kind, visit.account
    if login.has_second_factor(person):
        return visit.redirect(site.done)
    if visit.request.method == "GET":
        return await enrol_page(visit, site, person, required, 200)
    form = await read_form(visit.request)
    if not csrf_matches(session, form.get("csrf_token")):
        return await enrol_page(visit, site, person, required, 400, error=FormExpired())
    actor = audit.by_self(kind, person)
    if not await factors.enrol(database, kind, account, person, form.get("code", ""), actor):
        return await enrol_page(visit, site, person, required, 400, error=WrongCode())
    if session is not None and session.logged_in:
        # Set up from the person's own pages: the session goes on as it was.
        return visit.redirect("recovery-codes")
    # Set up on the way in: the new factor completes the login.
    logged_in = await login.proved(database, kind, account, person, "totp")
    response = start(visit, logged_in, person.language)
    response.headers["location"] = visit.base + "recovery-codes"
    return response


async def recovery_codes(visit: Visit, site: SitePages) -> Response:
    """The recovery codes just made, once; a reload finds them gone."""
    found = await current(visit, site)
    if not isinstance(found, Person):
        return found
    codes = await factors.take_codes(visit.site.database, site.kind, visit.account, found)
    if codes is None:
        return visit.redirect(site.done)
    return visit.page("recovery.html", found.language, 200, codes=codes)


async def log_out(visit: Visit, site: SitePages) -> Response:
    """End the person's sessions and go back to the login form."""
    if visit.request.method == "GET":
        return visit.redirect("")
    form = await read_form(visit.request)
    if not csrf_matches(visit.session, form.get("csrf_token")):
        # Another site's form must not log the person out of this browser.
        raise FormExpired()
    if visit.session is not None:
        await login.log_out(visit.site.database, site.kind, visit.account, visit.session)
    return logged_out(visit, "logged-out")
