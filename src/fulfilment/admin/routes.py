"""HTTP routes of the back office: `/admin/...` on an account's own host, `/admin/{account}/...`
on any host. Every answer is an HTML page (or a redirect) with strict security headers."""

from __future__ import annotations

import secrets
from typing import Any

import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..accounts.service import AccountSettings, check_timezone, known_timezones
from ..errors import InvalidInput
from ..fields import LANGUAGES, DisplayNameProblem, display_name_problem
from ..staff import service as staff
from ..web.errors import FormExpired, LoginRefused, PageError, PageNotFound, TooManyAttempts
from ..web.i18n import N_
from ..web.pages import read_form, secure
from ..web.sessions import csrf_matches
from . import (
    customer_routes,
    errors,
    hooks_routes,
    manage,
    manage_routes,
    once,
    recovery,
    service,
)
from .web import HERE, Visit, admin_page, checked_form

NOTICES = {
    "logged-out": N_("You have been logged out."),
    "ended": errors.SessionEnded.message,
    "settings-saved": N_("The settings have been saved."),
    **recovery.NOTICES,
}
STYLESHEET = (HERE / "admin.css").read_bytes()


def _notice(visit: Visit) -> str | None:
    return NOTICES.get(visit.request.query_params.get("notice", ""))


# -- logging in ---------------------------------------------------------------------------


@admin_page(logged_in=False)
async def login(visit: Visit) -> Response:
    """The login form (GET) and logging in (POST)."""
    if visit.request.method == "POST":
        return await _log_in(visit)
    chosen = visit.request.query_params.get("lang")
    chosen = chosen if chosen in LANGUAGES else None
    session = visit.session
    if session is not None and session.logged_in:
        return visit.redirect("")
    if session is not None and chosen is not None:
        session.language = chosen
    return visit.render(
        "login.html", language=visit.language(chosen), notice=_notice(visit), username=""
    )


async def _log_in(visit: Visit) -> Response:
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    username = form.get("username", "")
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        error: PageError = FormExpired()
        return visit.render(
            "login.html", error.status, language=language, error=error, username=username
        )
    office = visit.office
    try:
        logged_in = await service.log_in(
            office.database,
            office.throttle,
            visit.account,
            username,
            form.get("password", ""),
            visit.address,
        )
    except (LoginRefused, TooManyAttempts) as refused:
        page = visit.render(
            "login.html", refused.status, language=language, error=refused, username=username
        )
        if isinstance(refused, TooManyAttempts):
            page.headers["Retry-After"] = str(refused.retry_after)
        return page
    # A new session (and form token) at login: nothing from before it carries over.
    session = visit.new_session(
        language,
        account=visit.account.id,
        user=logged_in.user,
        version=logged_in.version,
        stage=logged_in.stage,
    )
    target = {"in": "", "code": "second-factor", "enrol": "enrol"}[logged_in.stage]
    response = visit.redirect(target)
    visit.keep(response, session)
    return response


def _logged_in_now(visit: Visit, path: str = "") -> Response:
    """The second factor is done: a new session (and form token), logged in."""
    old = visit.session
    assert old is not None
    session = visit.new_session(
        old.language, account=old.account, user=old.user, version=old.version, stage="in"
    )
    session.expires = old.expires
    response = visit.redirect(path)
    visit.keep(response, session)
    return response


@admin_page(logged_in=False)
async def second_factor(visit: Visit) -> Response:
    """The code from the authenticator app, or a recovery code."""
    session = visit.session
    if session is None or session.stage != "code":
        return visit.redirect("login")
    user = await service.pending_user(visit.database, visit.account, session)
    visit.user = None
    language = user.language
    if visit.request.method == "GET":
        return visit.render("code.html", language=language)
    form = await checked_form(visit)
    if form is None:
        return visit.render("code.html", 400, language=language, error=FormExpired())
    try:
        await service.check_code(
            visit.database,
            visit.office.throttle,
            visit.account,
            user,
            form.get("code", ""),
            visit.address,
        )
    except (errors.WrongCode, TooManyAttempts) as refused:
        page = visit.render("code.html", refused.status, language=language, error=refused)
        if isinstance(refused, TooManyAttempts):
            page.headers["Retry-After"] = str(refused.retry_after)
        return page
    await service.record_login(visit.database, visit.account, user.iduser)
    return _logged_in_now(visit)


def _qr_code(uri: str) -> Markup:
    """The enrolment address as a QR code, drawn here as inline SVG: no script, no image
    from elsewhere."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own markup, with no text of the visitor's


@admin_page(logged_in=False)
async def enrol(visit: Visit) -> Response:
    """Set up the second factor: scan the code, type a code back, get recovery codes."""
    session = visit.session
    if session is None or not (session.logged_in or session.stage == "enrol"):
        return visit.redirect("login")
    if session.logged_in:
        user = await service.session_user(visit.database, visit.account, session)
        visit.user = user
    else:
        user = await service.pending_user(visit.database, visit.account, session)
    if user.totp_secret is not None:
        return visit.redirect("settings")
    if session.pending_secret is None:
        session.pending_secret = staff.new_totp_secret()
    secret = session.pending_secret
    uri = staff.provisioning_uri(secret, user.username, visit.account.name)
    page: dict[str, Any] = {
        "language": user.language,
        "qr_code": _qr_code(uri),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "required": session.stage == "enrol",
    }
    if visit.request.method == "GET":
        return visit.render("enrol.html", **page)
    form = await checked_form(visit)
    if form is None:
        return visit.render("enrol.html", 400, error=FormExpired(), **page)
    codes = await staff.enrol(
        visit.database, visit.account.id, user.iduser, secret, form.get("code", "")
    )
    if codes is None:
        return visit.render("enrol.html", 400, error=errors.WrongCode(), **page)
    if not session.logged_in:
        await service.record_login(visit.database, visit.account, user.iduser)
    session.pending_secret = None
    if session.stage != "in":
        # Logged in from now on: a new form token, as at every login.
        session.stage = "in"
        session.csrf = secrets.token_urlsafe(32)
    # The codes are shown once, on the page the redirect leads to.
    shown = {"codes": codes}
    token = await once.keep(visit.database, visit.account, user, "codes", user.iduser, shown)
    response = visit.redirect(f"recovery-codes?once={token}")
    visit.keep(response, session)
    return response


@admin_page()
async def recovery_codes(visit: Visit) -> Response:
    """The recovery codes just made, once; a reload finds them gone."""
    user = visit.user
    assert user is not None
    token = visit.request.query_params.get("once")
    shown = await once.take(visit.database, visit.account, user, "codes", user.iduser, token)
    if shown is None:
        return visit.redirect("settings")
    return visit.render("recovery.html", language=user.language, codes=shown["codes"])


@admin_page()
async def log_out(visit: Visit) -> Response:
    """End the user's sessions and go back to the login form."""
    if visit.request.method == "GET":
        return visit.redirect("")
    if await checked_form(visit) is None:
        # As in the portal: another site's form must not log the user out of this browser.
        raise FormExpired()
    assert visit.session is not None
    await service.log_out(visit.database, visit.account, visit.session)
    language = visit.user.language if visit.user else None
    response = visit.redirect("login?notice=logged-out")
    visit.keep(response, visit.new_session(language))
    return response


# -- customers ----------------------------------------------------------------------------


@admin_page()
async def home(visit: Visit) -> Response:
    return visit.redirect("customers")


# -- settings -----------------------------------------------------------------------------


async def _settings_page(visit: Visit, status: int = 200, **context: Any) -> Response:
    assert visit.user is not None
    account = visit.account
    context.setdefault(
        "form",
        {
            "name": account.name,
            "timezone": account.timezone,
            "require_second_factor": visit.user.requires_second_factor,
        },
    )
    context.setdefault("form_errors", {})
    left = await staff.recovery_codes_left(visit.database, visit.user.iduser)
    return visit.render(
        "settings.html",
        status,
        notice=_notice(visit),
        recovery_codes_left=left,
        timezones=known_timezones(),
        **context,
    )


SETTINGS_PROBLEMS = {
    "name": N_("Enter a name of at most 255 characters."),
    "timezone": N_("Choose a time zone from the list, such as Europe/Amsterdam."),
}
# Why a name mails cannot carry was refused, in words for the person who typed it.
NAME_PROBLEMS: dict[DisplayNameProblem, str] = {
    "length": SETTINGS_PROBLEMS["name"],
    "characters": N_(
        "The name may not contain line breaks, tabs or other control or invisible characters."
    ),
    "encoded": N_("The name may not contain =? (mail programs read it as encoded text)."),
}


@admin_page()
async def settings(visit: Visit) -> Response:
    """The user's own second factor, and (administrators) the account's name, time zone
    and rule for the second factor."""
    assert visit.user is not None
    if visit.request.method == "GET":
        return await _settings_page(visit)
    if not visit.user.admin:
        raise errors.AdminsOnly()
    form = await checked_form(visit)
    if form is None:
        raise FormExpired()
    # A field left out keeps its value; the form sends them all.
    changed = AccountSettings(
        name=form.get("name"),
        timezone=form.get("timezone"),
        require_second_factor=form.get("require_second_factor") == "1",
    )
    # Each field checked by the account's own rule, so that both errors show at once.
    problems: dict[str, str] = {}
    if changed.name is not None:
        name_problem = display_name_problem(changed.name)
        if name_problem is not None:
            problems["name"] = NAME_PROBLEMS[name_problem]
    if changed.timezone is not None:
        try:
            check_timezone(changed.timezone)
        except InvalidInput:
            problems["timezone"] = SETTINGS_PROBLEMS["timezone"]
    if not problems:
        await manage.change_settings(visit.database, visit.account, visit.user, changed)
    if problems:
        values = {
            "name": form.get("name", ""),
            "timezone": form.get("timezone", ""),
            "require_second_factor": changed.require_second_factor,
        }
        return await _settings_page(visit, 400, form=values, form_errors=problems)
    return visit.redirect("settings?notice=settings-saved")


@admin_page(logged_in=False)
async def not_found(visit: Visit) -> Response:
    raise PageNotFound()


async def stylesheet(request: Request) -> Response:
    response = Response(STYLESHEET, media_type="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return secure(response, request)


def _pages(prefix: str) -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route(f"{prefix}/", home, methods=["GET"]),
        Route(f"{prefix}/login", login, methods=both),
        Route(f"{prefix}/second-factor", second_factor, methods=both),
        Route(f"{prefix}/enrol", enrol, methods=both),
        Route(f"{prefix}/recovery-codes", recovery_codes, methods=["GET"]),
        Route(f"{prefix}/logout", log_out, methods=both),
        *recovery.pages(prefix),
        Route(f"{prefix}/settings", settings, methods=both),
        *customer_routes.pages(prefix),
    ]


routes: list[Route] = [
    Route("/admin/admin.css", stylesheet, methods=["GET"]),
    *_pages("/admin"),
    *manage_routes.pages("/admin"),
    *hooks_routes.pages("/admin"),
    *_pages("/admin/{account}"),
    *manage_routes.pages("/admin/{account}"),
    *hooks_routes.pages("/admin/{account}"),
    Route("/admin/{account}/{rest:path}", not_found, methods=["GET", "POST"]),
]
