"""HTTP routes of the portal: `/portal/...` on an account's own host, `/portal/{account}/...`
on any host. Every answer is an HTML page (or a redirect) with strict security headers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..customers import service as customers
from ..fields import LANGUAGES, PASSWORD_MAX, PASSWORD_MIN
from ..passkeys import ceremony
from ..passkeys.errors import PasskeyMissing, PasskeyRefused
from ..passkeys.parties import Person
from ..web import passkey_pages
from ..web.i18n import N_
from ..web.pages import read_form, secure
from ..web.passkey_pages import options_answer
from ..web.sessions import Session, csrf_matches
from . import errors, recovery_routes, service
from .errors import PortalError, SessionEnded
from .web import HERE, Visit, portal_page

NOTICES = {
    "logged-out": N_("You have been logged out."),
    "ended": SessionEnded.message,
    "password-changed": N_("Your password has been changed."),
    "passkey-added": N_("The passkey has been added."),
    "passkey-removed": N_("The passkey has been removed."),
    **recovery_routes.NOTICES,
}
STYLESHEET = (HERE / "portal.css").read_bytes()


# -- pages --------------------------------------------------------------------------------


@portal_page
async def login(visit: Visit) -> Response:
    """The login form (GET) and logging in (POST)."""
    if visit.request.method == "POST":
        return await _log_in(visit)
    chosen = visit.request.query_params.get("lang")
    chosen = chosen if chosen in LANGUAGES else None
    session = visit.session
    if session is not None and session.logged_in:
        try:
            await service.current_customer(visit.portal.database, visit.account, session)
            return visit.redirect("")
        except SessionEnded:
            session = visit.new_session(session.language)
    if session is not None and chosen is not None:
        session.language = chosen
    language = visit.language(chosen)
    notice = NOTICES.get(visit.request.query_params.get("notice", ""))
    return visit.render("login.html", language, notice=notice, username="")


async def _log_in(visit: Visit) -> Response:
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    username = form.get("username", "")
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        error: PortalError = errors.FormExpired()
        return visit.render("login.html", language, error.status, error=error, username=username)
    try:
        logged_in = await service.log_in(
            visit.portal.database,
            visit.portal.throttle,
            visit.account,
            username,
            form.get("password", ""),
            visit.address,
        )
    except (errors.LoginRefused, errors.TooManyAttempts) as refused:
        page = visit.render(
            "login.html", language, refused.status, error=refused, username=username
        )
        if isinstance(refused, errors.TooManyAttempts):
            page.headers["Retry-After"] = str(refused.retry_after)
        return page
    # A new session (and form token) at login: nothing from before it carries over.
    session = visit.new_session(
        account=visit.account.id, customer=logged_in.customer, version=logged_in.version
    )
    response = visit.redirect("")
    visit.keep(response, session)
    return response


def _logged_out(visit: Visit, notice: str) -> Response:
    language = visit.session.language if visit.session else None
    response = visit.redirect(f"login?notice={notice}")
    visit.keep(response, visit.new_session(language))
    return response


@portal_page
async def home(visit: Visit) -> Response:
    """The customer's own page."""
    session = visit.session
    if session is None or not session.logged_in:
        return visit.redirect("login")
    try:
        customer = await service.current_customer(visit.portal.database, visit.account, session)
    except SessionEnded:
        return _logged_out(visit, "ended")
    notice = NOTICES.get(visit.request.query_params.get("notice", ""))
    return await _customer_page(visit, customer, notice=notice)


async def _customer_page(
    visit: Visit,
    customer: service.CustomerView,
    status: int = 200,
    notice: str | None = None,
    error: PortalError | None = None,
    form_errors: dict[str, Any] | None = None,
    passkey_errors: dict[str, Any] | None = None,
) -> Response:
    passkeys = await ceremony.passkeys_of(visit.portal.database, _person(visit, customer))
    return visit.render(
        "customer.html",
        customer.language,
        status,
        customer=customer,
        notice=notice,
        error=error,
        form_errors=form_errors or {},
        password_min=PASSWORD_MIN,
        password_max=PASSWORD_MAX,
        passkeys=passkeys,
        passkey_errors=passkey_errors or {},
    )


def _person(visit: Visit, customer: service.CustomerView) -> Person:
    session = visit.session
    assert session is not None
    assert session.customer is not None
    return Person(visit.account.id, "customer", session.customer, customer.username, customer.name)


async def _customer_form(
    visit: Visit,
) -> Response | tuple[Session, service.CustomerView, dict[str, str]]:
    """What the customer page's forms share: a logged-in session, a POST (a link cannot act),
    the customer as it is now, and the form's token. Any other case is answered here."""
    session = visit.session
    if session is None or not session.logged_in:
        return visit.redirect("login")
    if visit.request.method == "GET":
        return visit.redirect("")
    form = await read_form(visit.request)
    try:
        customer = await service.current_customer(visit.portal.database, visit.account, session)
    except SessionEnded:
        return _logged_out(visit, "ended")
    if not csrf_matches(session, form.get("csrf_token")):
        return await _customer_page(visit, customer, 400, error=errors.FormExpired())
    return session, customer, form


@portal_page
async def change_password(visit: Visit) -> Response:
    """Change the password: the current one, and the new one twice."""
    checked = await _customer_form(visit)
    if isinstance(checked, Response):
        return checked
    session, customer, form = checked
    try:
        version = await service.change_password(
            visit.portal.database,
            visit.portal.throttle,
            visit.account,
            session,
            form.get("current_password", ""),
            form.get("new_password", ""),
            form.get("new_password_again", ""),
            visit.address,
        )
    except SessionEnded:
        return _logged_out(visit, "ended")
    except errors.FieldErrors as refused:
        return await _customer_page(visit, customer, refused.status, form_errors=refused.shown())
    except PortalError as error:
        return await _customer_page(visit, customer, error.status, error=error)
    # This session goes on under the new credentials, with a new form token; every other
    # session of the customer has ended.
    renewed = visit.new_session(
        session.language, account=session.account, customer=session.customer, version=version
    )
    renewed.expires = session.expires
    response = visit.redirect("?notice=password-changed")
    visit.keep(response, renewed)
    return response


@portal_page
async def log_out(visit: Visit) -> Response:
    """End the customer's sessions and go back to the login form."""
    checked = await _customer_form(visit)
    if isinstance(checked, Response):
        return checked
    session, customer, _ = checked
    await service.log_out(visit.portal.database, visit.account, session)
    session.language = customer.language
    return _logged_out(visit, "logged-out")


# -- passkeys -----------------------------------------------------------------------------


@portal_page
async def registration_options(visit: Visit) -> Response:
    """The options for making a passkey (passkey.js asks for them)."""
    checked = await _customer_form(visit)
    relying = visit.relying_party()
    if isinstance(checked, Response) or checked[0] is None or relying is None:
        raise errors.FormExpired()
    session, customer, _ = checked
    options = await ceremony.registration_options(
        visit.portal.database, relying, _person(visit, customer), session.csrf
    )
    return options_answer(options)


@portal_page
async def add_passkey(visit: Visit) -> Response:
    """Keep the passkey the browser just made, under the name typed."""
    checked = await _customer_form(visit)
    if isinstance(checked, Response):
        return checked
    session, customer, form = checked
    relying = visit.relying_party()
    if relying is None:
        raise errors.FormExpired()
    try:
        await ceremony.register(
            visit.portal.database,
            relying,
            _person(visit, customer),
            session.csrf,
            form.get("passkey_name", ""),
            form.get("credential", ""),
        )
    except PortalError as refused:
        shown = {"passkey_name": (refused.message, refused.values)}
        return await _customer_page(visit, customer, refused.status, passkey_errors=shown)
    return visit.redirect("?notice=passkey-added#passkeys")


@portal_page
async def remove_passkey(visit: Visit) -> Response:
    checked = await _customer_form(visit)
    if isinstance(checked, Response):
        return checked
    _, customer, _ = checked
    number = visit.request.path_params["passkey"]
    if not await ceremony.remove(visit.portal.database, _person(visit, customer), number):
        raise PasskeyMissing()
    return visit.redirect("?notice=passkey-removed#passkeys")


@portal_page
async def login_options(visit: Visit) -> Response:
    """The options for logging in with any passkey of the account's customers."""
    form = await read_form(visit.request)
    relying = visit.relying_party()
    session = visit.session
    if relying is None or session is None or not csrf_matches(session, form.get("csrf_token")):
        raise errors.FormExpired()
    options = await ceremony.login_options(
        visit.portal.database, relying, visit.account.id, "customer", session.csrf
    )
    return options_answer(options)


@portal_page
async def passkey_login(visit: Visit) -> Response:
    """Log in with a passkey, without a username or password."""
    if visit.request.method == "GET":
        return visit.redirect("login")
    form = await read_form(visit.request)
    language = visit.language()
    relying = visit.relying_party()
    session = visit.session
    if relying is None or session is None or not csrf_matches(session, form.get("csrf_token")):
        visit.session = None
        expired = errors.FormExpired()
        return visit.render("login.html", language, expired.status, error=expired, username="")
    try:
        logged_in = await ceremony.authenticate(
            visit.portal.database,
            relying,
            visit.account.id,
            "customer",
            session.csrf,
            form.get("credential", ""),
        )
    except PasskeyRefused as refused:
        return visit.render("login.html", language, refused.status, error=refused, username="")
    person = logged_in.person
    database = visit.portal.database
    await customers.record_login(database, visit.account.id, person.id, person.username)
    # A new session (and form token) at login: nothing from before it carries over.
    session = visit.new_session(
        account=visit.account.id, customer=person.id, version=logged_in.version
    )
    response = visit.redirect("")
    visit.keep(response, session)
    return response


@portal_page
async def not_found(visit: Visit) -> Response:
    raise errors.PageNotFound()


async def stylesheet(request: Request) -> Response:
    response = Response(STYLESHEET, media_type="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return secure(response, request)


def _pages(prefix: str) -> list[Route]:
    return [
        Route(f"{prefix}/", home, methods=["GET"]),
        Route(f"{prefix}/login", login, methods=["GET", "POST"]),
        # GET (a typed or bookmarked address) leads back to the customer's page.
        Route(f"{prefix}/password", change_password, methods=["GET", "POST"]),
        Route(f"{prefix}/logout", log_out, methods=["GET", "POST"]),
        *recovery_routes.pages(prefix),
        Route(f"{prefix}/passkeys/options", registration_options, methods=["POST"]),
        Route(f"{prefix}/passkeys/add", add_passkey, methods=["GET", "POST"]),
        Route(f"{prefix}/passkeys/{{passkey:int}}/remove", remove_passkey, methods=["GET", "POST"]),
        Route(f"{prefix}/passkey/login-options", login_options, methods=["POST"]),
        Route(f"{prefix}/passkey/login", passkey_login, methods=["GET", "POST"]),
    ]


# Plain routes, no Mount: the API keeps the app's only Mount (/api/v1).
routes: list[Route] = [
    Route("/portal/portal.css", stylesheet, methods=["GET"]),
    Route("/portal/passkey.js", passkey_pages.script, methods=["GET"]),
    *_pages("/portal"),
    *_pages("/portal/{account}"),
    Route("/portal/{account}/{rest:path}", not_found, methods=["GET", "POST"]),
]
